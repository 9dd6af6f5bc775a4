"""EDLINK_IDP=keycloak configuration checks, and how users of the realm are kept."""
from __future__ import annotations

import pytest

from edlink import create_app
from edlink.config import ConfigError
from edlink.extensions import db
from edlink.linking import link_account
from edlink.users import find_provider_user, sync_provider_user
from tests.idp.conftest import events

ISSUER = "https://sso.example.test/realms/edlink"
KEYCLOAK = {"IDP": "keycloak", "KEYCLOAK_URL": "https://sso.example.test", "KEYCLOAK_REALM": "edlink",
            "KEYCLOAK_CLIENT_ID": "edlink", "KEYCLOAK_CLIENT_SECRET": "a-client-secret"}


@pytest.fixture
def build(app_config):
    made = []

    def _build(**overrides):
        app = create_app({**app_config, **overrides})
        made.append(app)
        return app

    yield _build
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("missing", ["KEYCLOAK_URL", "KEYCLOAK_REALM", "KEYCLOAK_CLIENT_ID",
                                     "KEYCLOAK_CLIENT_SECRET"])
def test_keycloak_needs_its_realm_and_client(build, missing):
    with pytest.raises(ConfigError, match=f"EDLINK_IDP=keycloak needs EDLINK_{missing}"):
        build(**{**KEYCLOAK, missing: ""})


def test_keycloak_defaults(build):
    cfg = build(**KEYCLOAK).config
    assert cfg["KEYCLOAK_URL"] == "https://sso.example.test/"
    assert cfg["KEYCLOAK_AUDIENCE"] == "edlink"
    assert cfg["KEYCLOAK_TOKEN_VERIFICATION"] == "jwt"
    assert cfg["KEYCLOAK_JWKS_CACHE_SECONDS"] == 300
    assert cfg["KEYCLOAK_SCOPE"] == "openid profile email"
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"  # the realm redirects back with a GET


@pytest.mark.parametrize("key, value, message", [
    ("KEYCLOAK_TOKEN_VERIFICATION", "opaque", "must be jwt or introspection"),
    ("KEYCLOAK_JWKS_CACHE_SECONDS", "soon", "must be a whole number"),
    ("KEYCLOAK_TIMEOUT_SECONDS", "0", "out of range"),
    ("KEYCLOAK_URL", "sso.example.test", "must be an http"),
])
def test_bad_keycloak_settings_are_refused(build, key, value, message):
    with pytest.raises(ConfigError, match=message):
        build(**{**KEYCLOAK, key: value})


def test_settings_come_from_the_environment(build, monkeypatch):
    for key, value in KEYCLOAK.items():
        monkeypatch.setenv(f"EDLINK_{key}", value)
    monkeypatch.setenv("EDLINK_KEYCLOAK_TOKEN_VERIFICATION", "introspection")
    monkeypatch.setenv("EDLINK_KEYCLOAK_AUDIENCE", "edlink-api")
    cfg = build().config
    assert (cfg["IDP"], cfg["KEYCLOAK_TOKEN_VERIFICATION"], cfg["KEYCLOAK_AUDIENCE"]) == (
        "keycloak", "introspection", "edlink-api")
    assert cfg["KEYCLOAK_CLIENT_SECRET"] == "a-client-secret"


def test_production_wants_the_realm_on_https(build):
    production = {"ENV": "production", "SECRET_KEY": "a-production-secret-0123456789",
                  "AUDIT_KEY": "a-production-audit-key-0123456789"}
    with pytest.raises(ConfigError, match="EDLINK_KEYCLOAK_URL on https"):
        build(**{**KEYCLOAK, **production, "KEYCLOAK_URL": "http://sso.example.test"})
    assert build(**KEYCLOAK, **production).config["PRODUCTION"] is True


# --- users of the realm ------------------------------------------------------------------------

def claims(username: str, sub: str = "sub-1", **extra) -> dict:
    return {"sub": sub, "preferred_username": username, **extra}


def test_users_are_keyed_by_issuer_and_subject_not_by_username(app):
    first = sync_provider_user(ISSUER, claims("teacher", email="teacher@example.test"))
    again = sync_provider_user(ISSUER, claims("teacher"))
    other_realm = sync_provider_user("https://other.example.test/realms/x", claims("teacher"))
    db.session.commit()
    assert first.id == again.id != other_realm.id
    assert first.email == "teacher@example.test"  # an answer without e-mail keeps the one known
    assert [e.details["issuer"] for e in events("user.created")] == [ISSUER, "https://other.example.test/realms/x"]


def test_a_username_without_a_value_is_refused(app):
    from edlink.errors import Invalid
    for bad in ("", "two words", "x" * 151):
        with pytest.raises(Invalid) as exc:
            sync_provider_user(ISSUER, claims(bad))
        assert exc.value.code == "missing_username"
    assert find_provider_user(ISSUER, "sub-1") is None


def test_a_username_changed_at_the_realm_is_followed_and_ends_a_link_that_no_longer_matches(demo):
    # the demo staff record 1000000001 carries the username "newstaff"
    user = sync_provider_user(ISSUER, claims("newstaff", sub="sub-newstaff"))
    link_account(user, "1000000001")
    db.session.commit()
    same = sync_provider_user(ISSUER, claims("NewStaff", sub="sub-newstaff"))  # case only: still matches
    db.session.commit()
    assert same.active_link is not None
    renamed = sync_provider_user(ISSUER, claims("newstaff2", sub="sub-newstaff"))
    db.session.commit()
    assert renamed.id == user.id and renamed.username == "newstaff2"
    assert renamed.active_link is None
    changes = events("user.username_changed")
    assert [(e.details["from"], e.details["to"]) for e in changes] == [
        ("newstaff", "NewStaff"), ("NewStaff", "newstaff2")]
    removed = events("link.removed")
    assert [(e.actor, e.details["reason"]) for e in removed] == [
        ("system:idp", "the username changed at the identity provider")]
