"""Signing in and out with EDLINK_IDP=keycloak, against the realm on loopback over real HTTP."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

from edlink.extensions import db
from edlink.idp.keycloak import BAD_STATE, CODE_REJECTED, PENDING, UNAVAILABLE
from edlink.models import User
from edlink.users import find_provider_user
from tests.idp.conftest import events, follow_back, sign_in
from tests.idp.realm import BASE_URL, CLIENT_ID, REALM, RealmBrowser


def signed_in_as(client) -> str | None:
    resp = client.get("/api/v1/me")
    return resp.get_json()["username"] if resp.status_code == 200 else None


def failures() -> list[tuple[str, str | None]]:
    return [(e.details["reason"], e.target_id) for e in events("user.login_failed")]


def test_sign_in_at_the_realm_creates_the_user_keyed_by_subject_and_issuer(kc_app, realm, browser):
    client = kc_app.test_client()
    assert signed_in_as(client) is None
    resp = sign_in(client, browser, "newstaff", next_url="/account")
    assert resp.status_code == 302 and resp.location == "/account"
    assert signed_in_as(client) == "newstaff"
    page = client.get("/account").get_data(as_text=True)
    assert "Signed in as <strong>newstaff</strong>" in page

    user = find_provider_user(realm.issuer, realm.user("newstaff")["sub"])
    assert realm.issuer == f"{realm.origin}/realms/{REALM}"
    assert (user.username, user.email, user.display_name) == ("newstaff", "newstaff@example.test", "Test Newstaff")
    assert user.last_login_at is not None
    assert [(e.actor, e.target_id, e.details["issuer"]) for e in events("user.created")] == [
        ("system:idp", str(user.id), realm.issuer)]
    assert [(e.actor, e.details["issuer"]) for e in events("user.login")] == [("newstaff", realm.issuer)]
    assert failures() == []


def test_the_authorization_request_carries_state_nonce_and_an_s256_pkce_challenge(kc_app, realm):
    client = kc_app.test_client()
    resp = client.get("/login")
    assert resp.status_code == 302
    url = urlsplit(resp.location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{realm.origin}/realms/{REALM}/protocol/openid-connect/auth"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{BASE_URL}/login/callback"
    assert query["scope"].split() == ["openid", "profile", "email"]
    assert query["code_challenge_method"] == "S256"
    with client.session_transaction() as sess:
        pending = sess[PENDING]
    flow = pending[query["state"]]
    assert len(query["state"]) >= 40 and flow["nonce"] == query["nonce"] and len(flow["nonce"]) >= 40
    digest = hashlib.sha256(flow["verifier"].encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert flow["verifier"] not in resp.location


def test_a_second_sign_in_is_the_same_user_and_single_sign_on_skips_the_form(kc_app, realm, browser):
    first = kc_app.test_client()
    sign_in(first, browser, "teacher")
    # the same browser at the realm: its session there signs the person in without the form
    second = kc_app.test_client()
    start = second.get("/login")
    resp = follow_back(second, browser.visit(start.location))
    assert resp.status_code == 302 and signed_in_as(second) == "teacher"
    db.session.expire_all()
    assert len(db.session.execute(db.select(User).where(User.username == "teacher")).scalars().all()) == 1
    assert len(events("user.created")) == 1 and len(events("user.login")) == 2


def test_a_wrong_password_at_the_realm_never_reaches_edlink(kc_app, browser):
    client = kc_app.test_client()
    start = client.get("/login")
    try:
        browser.visit(start.location, username="newstaff", password="not-the-password")
    except LookupError:
        pass  # the realm shows its form again
    assert "Invalid username or password." in browser.last_page
    assert signed_in_as(client) is None


def test_a_replayed_callback_gets_the_clear_page_and_is_audited(kc_app, realm, browser):
    client = kc_app.test_client()
    start = client.get("/login")
    back = browser.visit(start.location, username="newstaff", password=realm.user("newstaff")["password"])
    assert follow_back(client, back).status_code == 302
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    resp = follow_back(client, back)  # the same code and state again
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert BAD_STATE in page and 'id="sign-in-problem"' in page
    assert "Try again" in page and 'href="/login?next=/"' in page
    assert signed_in_as(client) is None
    assert failures() == [("bad_state", None)]


def test_a_callback_in_another_browser_is_refused(kc_app, realm, browser):
    client = kc_app.test_client()
    start = client.get("/login")
    back = browser.visit(start.location, username="newstaff", password=realm.user("newstaff")["password"])
    elsewhere = kc_app.test_client()  # no sign-in was started in this session
    resp = follow_back(elsewhere, back)
    assert resp.status_code == 400 and BAD_STATE in resp.get_data(as_text=True)
    assert signed_in_as(elsewhere) is None
    assert failures() == [("bad_state", None)]
    # the person's own browser still finishes
    assert follow_back(client, back).status_code == 302 and signed_in_as(client) == "newstaff"


def test_a_code_the_realm_refuses_gets_the_clear_page(kc_app, realm, browser):
    client = kc_app.test_client()
    start = client.get("/login")
    back = browser.visit(start.location, username="newstaff", password=realm.user("newstaff")["password"])
    query = parse_qs(urlsplit(back).query)
    resp = client.get("/login/callback", query_string={"state": query["state"][0], "code": "not-a-code"})
    assert resp.status_code == 400
    assert CODE_REJECTED in resp.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert failures() == [("code_rejected", None)]
    assert "invalid_grant" in events("user.login_failed")[0].details["detail"]


def test_an_error_from_the_realm_is_shown_without_its_free_text(kc_app):
    client = kc_app.test_client()
    state = parse_qs(urlsplit(client.get("/login").location).query)["state"][0]
    resp = client.get("/login/callback", query_string={
        "state": state, "error": "access_denied", "error_description": "Call 555-0100 <b>now</b>"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "The identity provider did not sign you in (access_denied)." in page
    assert "555-0100" not in page
    failed = events("user.login_failed")
    assert [e.details["reason"] for e in failed] == ["provider_error"]
    assert "access_denied" in failed[0].details["detail"]


def test_provider_down_when_sign_in_starts_gives_the_clear_page(make_app, realm):
    app = make_app(**realm.app_settings(KEYCLOAK_URL="http://127.0.0.1:9/"))  # nothing listens there
    client = app.test_client()
    resp = client.get("/login", query_string={"next": "/account"})
    assert resp.status_code == 503
    page = resp.get_data(as_text=True)
    assert UNAVAILABLE in page and 'href="/login?next=/account"' in page
    failed = events("user.login_failed")
    assert [e.details["reason"] for e in failed] == ["provider_unavailable"]
    assert "does not answer" in failed[0].details["detail"]
    # a page that needs signing in leads to the same clear page, not to an error 500
    resp = client.get("/account", follow_redirects=True)
    assert resp.status_code == 503 and UNAVAILABLE in resp.get_data(as_text=True)


def test_provider_down_when_the_browser_comes_back_gives_the_clear_page(make_app, own_realm):
    app = make_app(**own_realm.app_settings())
    client = app.test_client()
    start = client.get("/login")
    with RealmBrowser(own_realm) as browser:
        back = browser.visit(start.location, username="newstaff", password=own_realm.user("newstaff")["password"])
    own_realm.stop()
    resp = follow_back(client, back)
    assert resp.status_code == 503
    assert UNAVAILABLE in resp.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert failures() == [("provider_unavailable", None)]
    # the realm comes back: signing in works again
    own_realm.start()
    with RealmBrowser(own_realm) as browser:
        resp = sign_in(client, browser, "newstaff")
    assert resp.status_code == 302 and signed_in_as(client) == "newstaff"


def test_a_disabled_user_is_refused_after_the_realm_signs_them_in(kc_app, realm, browser):
    client = kc_app.test_client()
    sign_in(client, browser, "newstaff")
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    user = find_provider_user(realm.issuer, realm.user("newstaff")["sub"])
    user.disabled = True
    db.session.commit()
    resp = sign_in(client, browser, "newstaff")
    assert resp.status_code == 403
    assert "This account is disabled." in resp.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert failures() == [("disabled", str(user.id))]


def test_sign_out_ends_the_session_here_and_at_the_realm(kc_app, realm, browser):
    client = kc_app.test_client()
    sign_in(client, browser, "newstaff")
    with client.session_transaction() as sess:
        id_token = sess["oidc_id_token"]
    resp = client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert resp.status_code == 302
    url = urlsplit(resp.location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{realm.origin}/realms/{REALM}/protocol/openid-connect/logout"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {"client_id": CLIENT_ID, "id_token_hint": id_token,
                     "post_logout_redirect_uri": f"{BASE_URL}/signed-out"}
    assert signed_in_as(client) is None
    assert [(e.actor, e.details["reason"]) for e in events("user.logout")] == [("newstaff", "signed_out")]

    back = browser.visit(resp.location)  # the realm ends its session and sends the browser back
    assert back == f"{BASE_URL}/signed-out"
    page = follow_back(client, back)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "You are signed out" in text and "Sign in with the state identity" in text

    # the realm's session is over too: signing in again asks for the password
    start = client.get("/login")
    try:
        browser.visit(start.location)
        raise AssertionError("the realm signed the person in without asking")
    except LookupError:
        pass


def test_sign_out_while_the_realm_is_down_still_ends_the_edlink_session(make_app, own_realm):
    app = make_app(**own_realm.app_settings(KEYCLOAK_JWKS_CACHE_SECONDS=0))
    client = app.test_client()
    with RealmBrowser(own_realm) as browser:
        sign_in(client, browser, "newstaff")
    own_realm.stop()
    resp = client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert resp.status_code == 302 and resp.location == "/signed-out"
    page = client.get("/signed-out").get_data(as_text=True)
    assert "The identity provider could not be reached" in page
    assert signed_in_as(client) is None
    assert len(events("user.logout")) == 1


def test_the_local_provider_pages_stay_as_they_were(client):
    assert client.get("/login/callback").status_code == 404
    assert client.get("/signed-out").location == "/login"
    assert 'name="password"' in client.get("/login").get_data(as_text=True)
