"""Personal API tokens: the command, the account page, Bearer use, hashing, expiry, revocation."""
from __future__ import annotations

import datetime as _dt
import hashlib
import re

from sqlalchemy import text

from audit.models import AuditEvent
from edlink import clock
from edlink.cli import main
from edlink.extensions import db
from edlink.models import ApiToken
from edlink.users import find_local_user
from tests.conftest import login

TOKEN_RE = re.compile(r"^edl_[A-Za-z0-9_-]{40,}$")


def pin() -> _dt.datetime:
    """Pin the clock to the present (the demo's grants started a moment ago) and return it."""
    now = clock.now()
    clock.set_now(now)
    return now


def cli_token(app, username="auditor", *args) -> str:
    result = app.test_cli_runner().invoke(main, ["tokens", "create", username, *args])
    assert result.exit_code == 0, result.output
    last = result.stdout.rstrip("\n").split("\n")[-1]
    assert TOKEN_RE.match(last), result.stdout
    return last


def bearer(app, token: str, path: str = "/api/v1/me", method: str = "GET", **kwargs):
    """A call from a script: a fresh client with no cookies, only the Authorization header."""
    client = app.test_client()
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


def token_row(plain: str) -> ApiToken:
    db.session.expire_all()
    return db.session.execute(db.select(ApiToken).where(ApiToken.prefix == plain[:12])).scalar_one()


def create_on_page(client, name="nightly report", days=30):
    resp = client.post("/account/tokens", data={"name": name, "expires_days": str(days),
                                                "csrf_token": client.csrf_token()})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    match = re.search(r'id="token"[^>]*value="(edl_[^"]+)"', resp.get_data(as_text=True))
    assert match, resp.get_data(as_text=True)
    return match.group(1), resp


# --- the command -------------------------------------------------------------------------------

def test_cli_token_is_alone_on_the_last_line_and_works_as_bearer(demo):
    t0 = pin()
    result = demo.test_cli_runner().invoke(
        main, ["tokens", "create", "auditor", "--name", "report pull", "--expires-days", "7"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.rstrip("\n").split("\n")
    token = lines[-1]
    assert TOKEN_RE.match(token)
    assert token not in "\n".join(lines[:-1])  # printed once
    assert f"{t0 + _dt.timedelta(days=7):%Y-%m-%d}" in lines[0]  # the expiry, 7 days on

    resp = bearer(demo, token)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["username"] == "auditor"
    assert [g["role"] for g in body["grants"]] == ["edlink.auditor"]
    row = token_row(token)
    assert row.name == "report pull"
    assert row.expires_at == t0 + _dt.timedelta(days=7)
    assert row.last_used_at == t0
    created = events("token.created")
    assert [(e.actor, e.target_id, e.details["user"]) for e in created] == [
        ("system:cli", str(row.id), "auditor")]


def test_cli_token_defaults_to_90_days(demo):
    t0 = pin()
    token = cli_token(demo)
    assert token_row(token).expires_at == t0 + _dt.timedelta(days=90)


def test_cli_token_refuses_bad_input_with_one_line(demo):
    runner = demo.test_cli_runner()
    for args, reason in ([["nobody"], "unknown_user"],
                         [["auditor", "--expires-days", "0"], "invalid_expiry"],
                         [["auditor", "--expires-days", "400"], "invalid_expiry"]):
        result = runner.invoke(main, ["tokens", "create", *args])
        assert result.exit_code != 0, args
        assert result.stdout == ""
        err = result.stderr.strip().splitlines()
        assert len(err) == 1 and reason in err[0], result.stderr
    assert db.session.execute(db.select(ApiToken)).first() is None
    assert events("token.created") == []


def test_token_is_stored_only_hashed(demo):
    token = cli_token(demo)
    row = token_row(token)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:12]
    # nowhere in the token table or the audit trail does the whole token appear
    for table in ("api_token", "audit_event"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
        assert rows
        dumped = repr([tuple(r) for r in rows])
        assert token not in dumped
        assert token[12:] not in dumped


def test_expired_token_is_refused(demo):
    pin()
    token = cli_token(demo, "auditor", "--expires-days", "1")
    clock.advance(_dt.timedelta(days=1, seconds=-1))
    assert bearer(demo, token).status_code == 200
    clock.advance(_dt.timedelta(seconds=1))
    resp = bearer(demo, token)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "invalid_token"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_and_malformed_tokens_are_refused(demo):
    token = cli_token(demo)
    for wrong in (token[:-2] + "xx", "edl_nope", "not-even-ours"):
        resp = bearer(demo, wrong)
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == "invalid_token"


def test_token_of_a_disabled_user_is_refused(demo):
    token = cli_token(demo)
    find_local_user("auditor").disabled = True
    db.session.commit()
    assert bearer(demo, token).get_json()["error"]["code"] == "invalid_token"


def test_bearer_call_needs_no_csrf(demo):
    token = cli_token(demo, "newstaff")
    resp = bearer(demo, token, "/api/v1/me/link", "POST", json={"staff_id": "1000000001"})
    assert resp.status_code == 201
    assert resp.get_json()["staff"]["staff_id"] == "1000000001"
    assert bearer(demo, token).get_json()["linked"] is True


def test_bearer_request_does_not_start_a_session(demo):
    token = cli_token(demo)
    client = demo.test_client()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/me").status_code == 401  # nothing was remembered


# --- the account page --------------------------------------------------------------------------

def test_account_page_creates_a_token_shown_once(demo, client):
    t0 = pin()
    login(client, "auditor")
    token, resp = create_on_page(client, "nightly report", 30)
    page = resp.get_data(as_text=True)
    assert "Copy it now: it will not be shown again." in page
    assert "no-store" in resp.headers["Cache-Control"]
    assert bearer(demo, token).get_json()["username"] == "auditor"

    account = client.get("/account").get_data(as_text=True)
    assert "nightly report" in account
    assert token[:12] in account  # the prefix, to tell tokens apart
    assert token not in account and token[12:] not in account
    row = token_row(token)
    assert row.expires_at == t0 + _dt.timedelta(days=30)
    created = events("token.created")
    assert [(e.actor, e.target_id, e.details["name"]) for e in created] == [
        ("auditor", str(row.id), "nightly report")]


def test_account_page_refuses_a_bad_token_form(demo, client):
    login(client, "auditor")
    resp = client.post("/account/tokens", data={"name": "", "expires_days": "0",
                                                "csrf_token": client.csrf_token()})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "This field is required." in page  # the name
    assert "Number must be between 1 and 366." in page  # 0 days is out of range, not missing
    assert db.session.execute(db.select(ApiToken)).first() is None


def test_account_page_revokes_a_token(demo, client):
    login(client, "auditor")
    token, _ = create_on_page(client)
    row = token_row(token)
    assert bearer(demo, token).status_code == 200
    resp = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": client.csrf_token()})
    assert resp.status_code == 302 and resp.location == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "Token “nightly report” is revoked." in page
    assert re.search(r"<td>revoked</td>", page)
    assert f"/account/tokens/{row.id}/revoke" not in page  # nothing left to revoke
    resp = bearer(demo, token)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "invalid_token"
    revoked = events("token.revoked")
    assert [(e.actor, e.target_id) for e in revoked] == [("auditor", str(row.id))]
    # revoking again changes nothing and records nothing
    client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": client.csrf_token()})
    assert len(events("token.revoked")) == 1


def test_cannot_revoke_someone_elses_token(demo, client):
    token = cli_token(demo, "teacher")
    row = token_row(token)
    login(client, "auditor")
    resp = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": client.csrf_token()})
    assert resp.status_code == 404
    assert token_row(token).revoked_at is None
    assert bearer(demo, token).status_code == 200
    assert events("token.revoked") == []


def test_revoke_needs_the_csrf_token(demo, client):
    login(client, "auditor")
    token, _ = create_on_page(client)
    row = token_row(token)
    resp = client.post(f"/account/tokens/{row.id}/revoke", csrf=False)
    assert resp.status_code == 400
    assert bearer(demo, token).status_code == 200


def test_account_page_shows_an_expired_token_as_expired(demo, client):
    pin()
    login(client, "auditor")
    create_on_page(client, "short-lived", 1)
    clock.advance(_dt.timedelta(days=2))
    client = demo.test_client()
    login(client, "auditor")
    page = client.get("/account").get_data(as_text=True)
    assert "short-lived" in page
    assert "<td>expired</td>" in page
    assert "<td>active</td>" not in page
