"""Sign-in, lock-out, sign-out and sessions (cookies, idle timeout, CSRF)."""
from __future__ import annotations

import datetime as _dt
import html

import pytest

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.users import create_local_user, find_local_user
from tests.conftest import login

PASSWORD = "demo-pass-2026"


def pin() -> _dt.datetime:
    """Pin the clock to the present and return it; tests then move it by hand."""
    now = clock.now()
    clock.set_now(now)
    return now


def events(action: str) -> list[AuditEvent]:
    """The committed events of one action (the test's session reads what requests committed)."""
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


def post_login(client, username: str, password: str, url: str = "/login"):
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": client.csrf_token()})


def signed_in(client) -> bool:
    resp = client.get("/account")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("edlink_session=")]
    assert cookies, resp.headers
    return cookies[-1]


def make_user(username: str = "alice", password: str = "correct-horse-1") -> str:
    create_local_user(username, password, email=f"{username}@example.test")
    db.session.commit()
    return password


# --- local sign-in ---------------------------------------------------------------------------

def test_sign_in_page_has_labelled_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label class="form-label" for="username">Username</label>' in page
    assert '<label class="form-label" for="password">Password</label>' in page
    assert 'name="csrf_token"' in page


def test_good_password_signs_in_and_records_the_login(demo, client):
    t0 = pin()
    assert not signed_in(client)
    resp = post_login(client, "newstaff", PASSWORD)
    assert resp.status_code == 302
    assert resp.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as <strong>newstaff</strong>" in page
    user = find_local_user("newstaff")
    assert user.last_login_at == t0
    logins = events("user.login")
    assert [(e.actor, e.target_id) for e in logins] == [("newstaff", str(user.id))]
    assert logins[0].occurred_at == t0
    assert client.get("/api/v1/me").get_json()["last_login_at"] == t0.isoformat()


def test_username_is_matched_trimmed_and_case_insensitively(demo, client):
    assert post_login(client, "  NewStaff ", PASSWORD).status_code == 302
    assert client.get("/api/v1/me").get_json()["username"] == "newstaff"


def test_bad_password_shows_the_form_again_and_keeps_the_failed_attempt(demo, client):
    resp = post_login(client, "newstaff", "not-the-password")
    assert resp.status_code == 401
    page = resp.get_data(as_text=True)
    assert "The username or password is not right." in page
    assert 'name="password"' in page and 'value="newstaff"' in page  # the form, username kept
    assert not signed_in(client)
    user = find_local_user("newstaff")
    assert user.last_login_at is None
    assert user.credential.failed_logins == 1
    failed = events("user.login_failed")
    assert len(failed) == 1
    assert failed[0].target_id == str(user.id)
    assert failed[0].details["reason"] == "bad_password"
    assert failed[0].details["username"] == "newstaff"
    assert events("user.login") == []


def test_unknown_username_gets_the_same_message_and_is_audited(demo, client):
    resp = post_login(client, "nobody-here", PASSWORD)
    assert resp.status_code == 401
    assert "The username or password is not right." in resp.get_data(as_text=True)
    failed = events("user.login_failed")
    assert [(e.target_id, e.details["reason"], e.details["username"]) for e in failed] == [
        (None, "unknown_user", "nobody-here")]


def test_empty_password_is_refused_without_counting(demo, client):
    resp = post_login(client, "newstaff", "")
    assert resp.status_code == 400
    assert not signed_in(client)
    assert find_local_user("newstaff").credential.failed_logins == 0


def test_lock_out_after_configured_failures_and_unlock_when_time_passes(make_app):
    app = make_app(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_MINUTES=10)
    password = make_user()
    client = app.test_client()
    t0 = pin()
    for _ in range(2):
        resp = post_login(client, "alice", "wrong-password")
        assert resp.status_code == 401
        assert "The username or password is not right." in resp.get_data(as_text=True)
    until = f"locked until {t0 + _dt.timedelta(minutes=10):%H:%M} UTC"
    resp = post_login(client, "alice", "wrong-password")
    assert resp.status_code == 401
    assert f"this account is {until}" in resp.get_data(as_text=True)

    # the right password is refused while locked
    clock.advance(_dt.timedelta(minutes=9))
    resp = post_login(client, "alice", password)
    assert resp.status_code == 401
    assert until in resp.get_data(as_text=True)
    assert not signed_in(client)
    reasons = [e.details["reason"] for e in events("user.login_failed")]
    assert reasons == ["bad_password", "bad_password", "bad_password", "locked"]
    assert [e.details.get("locked") for e in events("user.login_failed")][:3] == [False, False, True]

    # once the lock-out has passed, the right password works again
    clock.advance(_dt.timedelta(minutes=1, seconds=1))
    assert post_login(client, "alice", password).status_code == 302
    assert signed_in(client)
    cred = find_local_user("alice").credential
    assert cred.failed_logins == 0 and cred.locked_until is None


def test_default_lock_out_is_five_failures(demo, client):
    for attempt in range(1, 6):
        body = post_login(client, "teacher", "wrong-password").get_data(as_text=True)
        assert ("locked until" in body) == (attempt == 5), attempt
    assert post_login(client, "teacher", PASSWORD).status_code == 401


def test_a_good_sign_in_resets_the_failure_count(make_app):
    app = make_app(LOGIN_MAX_FAILURES=2)
    password = make_user()
    client = app.test_client()
    assert post_login(client, "alice", "wrong-password").status_code == 401
    assert post_login(client, "alice", password).status_code == 302
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    # one more failure does not lock: the count started again
    body = post_login(client, "alice", "wrong-password").get_data(as_text=True)
    assert "locked" not in body
    assert post_login(client, "alice", password).status_code == 302


def test_disabled_user_is_refused(demo, client):
    user = find_local_user("teacher")
    user.disabled = True
    db.session.commit()
    resp = post_login(client, "teacher", PASSWORD)
    assert resp.status_code == 401
    assert "This account is disabled." in resp.get_data(as_text=True)
    assert not signed_in(client)
    assert [e.details["reason"] for e in events("user.login_failed")] == ["disabled"]
    assert events("user.login") == []


def test_user_disabled_during_a_session_is_signed_out(demo, client):
    login(client, "teacher")
    assert signed_in(client)
    find_local_user("teacher").disabled = True
    db.session.commit()
    assert not signed_in(client)
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("target, landing", [
    ("/account", "/account"),
    ("/account/link?from=home", "/account/link?from=home"),
    ("https://evil.example/phish", "/"),
    ("//evil.example/phish", "/"),
    ("/\\evil.example/phish", "/"),
    ("/\t/evil.example/phish", "/"),
    ("javascript:alert(1)", "/"),
    ("account", "/"),
])
def test_next_only_allows_local_paths(demo, client, target, landing):
    resp = client.post("/login", query_string={"next": target},
                       data={"username": "newstaff", "password": PASSWORD,
                             "csrf_token": client.csrf_token()})
    assert resp.status_code == 302
    assert resp.location == landing


def test_a_page_sends_you_to_sign_in_and_back(demo, client):
    resp = client.get("/account/link")
    assert resp.status_code == 302
    assert resp.location == "/login?next=/account/link"
    page = client.get(resp.location).get_data(as_text=True)
    assert "Please sign in to continue." in page
    resp = post_login(client, "newstaff", PASSWORD, url=resp.location)
    assert resp.location == "/account/link"
    assert client.get("/account/link").status_code == 200


def test_signed_in_user_visiting_login_goes_on(demo, client):
    login(client, "newstaff")
    resp = client.get("/login?next=/account")
    assert resp.status_code == 302 and resp.location == "/account"
    assert client.get("/login?next=//evil.example").location == "/"


def test_sign_out_records_the_logout(demo, client):
    login(client, "newstaff")
    resp = client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert resp.status_code == 302
    assert resp.location == "/login"
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)
    out = events("user.logout")
    assert [(e.actor, e.details["reason"]) for e in out] == [("newstaff", "signed_out")]


def test_sign_out_without_csrf_token_is_refused(demo, client):
    login(client, "newstaff")
    resp = client.post("/logout", csrf=False)
    assert resp.status_code == 400
    assert signed_in(client)
    assert events("user.logout") == []


def test_sign_out_form_is_on_every_page(demo, client):
    login(client, "newstaff")
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page
    assert "Sign out" in page


# --- sessions ----------------------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax(demo, client):
    cookie = session_cookie(login(client, "newstaff"))
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "secure" not in attrs  # development serves plain http


def test_session_cookie_is_secure_in_production(make_app):
    app = make_app(ENV="production", SECRET_KEY="a-production-secret-0123456789",
                   AUDIT_KEY="a-production-audit-key-0123456789")
    assert app.config["PRODUCTION"] is True
    password = make_user()
    client = app.test_client()
    resp = client.post("/login", base_url="https://localhost",
                       headers={"Referer": "https://localhost/login"},  # CSRF checks it on https
                       data={"username": "alice", "password": password,
                             "csrf_token": client.csrf_token()})
    assert resp.status_code == 302
    attrs = [a.strip().lower() for a in session_cookie(resp).split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(attrs)


def test_idle_timeout_default_is_30_minutes_and_slides_with_activity(demo, client):
    pin()
    login(client, "newstaff")
    for _ in range(3):  # activity every 29 minutes keeps the session alive (87 minutes in all)
        clock.advance(_dt.timedelta(minutes=29))
        assert client.get("/account").status_code == 200
    clock.advance(_dt.timedelta(minutes=30, seconds=1))
    resp = client.get("/account")
    assert resp.status_code == 302
    assert resp.location == "/login?next=/account"
    assert "signed out after a period of inactivity" in client.get(resp.location).get_data(as_text=True)
    assert not signed_in(client)
    assert client.get("/api/v1/me").status_code == 401
    out = events("user.logout")
    assert [(e.actor, e.details["reason"]) for e in out] == [("newstaff", "idle_timeout")]


def test_idle_api_call_answers_session_expired(demo, client):
    pin()
    login(client, "newstaff")
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(_dt.timedelta(minutes=31))
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "session_expired"
    # the session is over: the next call is simply unauthenticated
    assert client.get("/api/v1/me").get_json()["error"]["code"] == "unauthenticated"


def test_idle_timeout_is_configurable(make_app):
    app = make_app(IDLE_TIMEOUT_MINUTES=5)
    password = make_user()
    client = app.test_client()
    pin()
    login(client, "alice", password)
    clock.advance(_dt.timedelta(minutes=4))
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(_dt.timedelta(minutes=5, seconds=1))
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "session_expired"


def test_form_post_without_csrf_token_is_refused(demo, client):
    login(client, "newstaff")
    links_before = len(events("link.created"))
    resp = client.post("/account/link", data={"staff_id": "1000000001"}, csrf=False)
    assert resp.status_code == 400
    assert "Form expired" in resp.get_data(as_text=True)
    assert find_local_user("newstaff").active_link is None
    assert events("link.failed") == []
    assert len(events("link.created")) == links_before


def test_sign_in_form_without_csrf_token_is_refused(demo, client):
    resp = client.post("/login", data={"username": "newstaff", "password": PASSWORD}, csrf=False)
    assert resp.status_code == 400
    assert not signed_in(client)
    assert events("user.login") == []


def test_form_post_with_a_forged_csrf_token_is_refused(demo, client):
    login(client, "newstaff")
    resp = client.post("/account/link", csrf=False,
                       data={"staff_id": "1000000001", "csrf_token": "forged.token.value"})
    assert resp.status_code == 400
    assert find_local_user("newstaff").active_link is None


def test_session_api_call_needs_the_csrf_header(demo, client):
    login(client, "newstaff")
    resp = client.post("/api/v1/me/link", json={"staff_id": "1000000001"}, csrf=False)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "csrf_failed"
    assert error["message"] and error["fields"] == {}
    assert find_local_user("newstaff").active_link is None
    resp = client.post("/api/v1/me/link", json={"staff_id": "1000000001"})  # header sent
    assert resp.status_code == 201
    assert resp.get_json()["staff"]["staff_id"] == "1000000001"


def test_a_bogus_bearer_header_does_not_ride_the_session(demo, client):
    """A cross-site script cannot skip CSRF by adding an Authorization header: a request that
    carries one is authenticated by that token alone, never by the session cookie."""
    login(client, "newstaff")
    resp = client.post("/api/v1/me/link", json={"staff_id": "1000000001"},
                       headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "invalid_token"
    assert find_local_user("newstaff").active_link is None


def test_flash_and_messages_escape_user_input(demo, client):
    resp = post_login(client, "<script>x</script>", "whatever-123")
    body = resp.get_data(as_text=True)
    assert "<script>x</script>" not in body
    assert html.escape("<script>x</script>") in body


def test_anonymous_unsafe_api_call_is_401_not_a_csrf_error(demo, client):
    resp = client.post("/api/v1/me/link", json={"staff_id": "1000000001"}, csrf=False)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthenticated"


def test_idle_timeout_on_a_form_post_returns_to_the_form_page(demo, client):
    pin()
    login(client, "newstaff")
    clock.advance(_dt.timedelta(minutes=31))
    resp = client.post("/account/link", data={"staff_id": "1000000001"},
                       headers={"Referer": "http://localhost/account/link"})
    assert resp.status_code == 302 and resp.location == "/login?next=/account/link"
    clock.advance(_dt.timedelta(minutes=1))
    login(client, "newstaff")
    clock.advance(_dt.timedelta(minutes=31))
    resp = client.post("/account/link", data={"staff_id": "1000000001"},
                       headers={"Referer": "http://elsewhere.example/phish"})
    assert resp.status_code == 302 and resp.location == "/login"
