"""Fixtures for the Keycloak provider: a realm on loopback (panva's oidc-provider with Keycloak's
URL layout, tests/idp/oidc_server) and EdLink apps configured for it."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from audit.models import AuditEvent
from edlink.extensions import db
from tests.idp.realm import BASE_URL, RealmBrowser, RealmServer


@pytest.fixture(scope="session")
def realm(tmp_path_factory):
    """The run's realm (one per test worker), shared by the tests that never stop it."""
    server = RealmServer(tmp_path_factory.mktemp("realm")).start()
    yield server
    server.stop()


@pytest.fixture
def own_realm(tmp_path):
    """A realm of the test's own, which the test may stop and start again."""
    server = RealmServer(tmp_path / "realm").start()
    yield server
    server.stop()


@pytest.fixture
def kc_app(make_app, realm):
    """EdLink with EDLINK_IDP=keycloak against the shared realm."""
    return make_app(**realm.app_settings())


@pytest.fixture
def browser(realm):
    with RealmBrowser(realm) as person:
        yield person


def sign_in(client, browser: RealmBrowser, username: str | None = "newstaff", *, next_url: str | None = None,
            password: str | None = None):
    """Sign in as a person does: EdLink's /login sends the browser to the realm, the person signs
    in there, the realm sends the browser back to EdLink's callback. Returns the callback's response."""
    query = {"next": next_url} if next_url else {}
    start = client.get("/login", query_string=query)
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    assert start.location.startswith(browser.realm.origin + "/realms/")
    password = password or (browser.realm.user(username)["password"] if username else None)
    back = browser.visit(start.location, username=username, password=password)
    return follow_back(client, back)


def follow_back(client, url: str):
    """Hand an address the realm redirected to (EdLink's own) to the Flask test client."""
    assert url.startswith(BASE_URL + "/"), url
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())
