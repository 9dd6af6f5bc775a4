"""POST /api/v1/authz/check's lean path (roles/authz.py): one statement for the common case, the
same answers as the view, and everything unusual handed to the view (401, 403 with its event,
422, the token's "last used")."""
import hashlib
import io
import json
from datetime import timedelta

import pytest

import edlink.tokens
import roles.authz
from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.models import ApiToken
from edlink.orgs import get_org
from edlink.tokens import create_token
from edlink.users import get_user
from roles.grants import create_grant, restore, revoke, suspend
from roles.models import Grant
from tests.conftest import DB_KIND


def grant(username, role, org):
    g = create_grant(get_user(username), role, get_org(org), source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    return g


@pytest.fixture
def paths(monkeypatch):
    """Counts of requests answered by the lean path and by the view (its token lookup)."""
    seen = {"lean": 0, "view": 0}
    read, lookup = roles.authz._read, edlink.tokens.user_for_token

    def counted_read(*args):
        seen["lean"] += 1
        return read(*args)

    def counted_lookup(plain):
        seen["view"] += 1
        return lookup(plain)
    monkeypatch.setattr(roles.authz, "_read", counted_read)
    monkeypatch.setattr(edlink.tokens, "user_for_token", counted_lookup)
    return seen


@pytest.fixture
def gate_client(demo):
    """A gate client's token, used once (so its "last used" is recorded and the lean path may answer)."""
    grant("stateadmin", "edlink.gate_client", "DS")
    token, _ = create_token(get_user("stateadmin"), "gate client", actor="system:test")
    db.session.commit()
    assert check(demo, token, {"username": "teacher", "permission": "eser.student.read"}).status_code == 200
    return token


def check(app, token, body, **kwargs):
    return app.test_client().post("/api/v1/authz/check", headers={"Authorization": f"Bearer {token}"},
                                  json=body, **kwargs)


QUESTIONS = [
    {"username": "teacher", "permission": "eser.student.write", "org": "101001"},  # covered by the LEA grant
    {"username": "teacher", "permission": "eser.student.write", "org": "101"},
    {"username": "teacher", "permission": "eser.student.write", "org": "102001"},  # out of scope
    {"username": "teacher", "permission": "eser.iep.edit", "org": "101"},          # no role gives it
    {"username": "teacher", "permission": "eser.student.read"},                    # anywhere
    {"username": "teacher", "permission": "eser.student.read", "org": None},
    {"username": "teacher", "permission": "eser.nothing", "org": "101"},           # unknown permission
    {"username": "teacher", "permission": "eser.student.read", "org": "NOPE"},     # unknown org
    {"username": "nobody", "permission": "eser.student.read"},                     # unknown user
    {"username": "newstaff", "permission": "eser.student.read", "org": "101"},     # not linked
    {"username": "stateadmin", "permission": "edlink.staff.manage", "org": "NP1011"},
]


def test_the_lean_path_answers_every_question_as_the_view_does(demo, gate_client, paths, monkeypatch):
    grant("teacher", "eser.writer", "101")
    grant("newstaff", "eser.reader", "101")
    lean = []
    for body in QUESTIONS:
        resp = check(demo, gate_client, body)
        assert resp.status_code == 200, resp.get_json()
        lean.append(resp.get_json())
    assert paths == {"lean": len(QUESTIONS), "view": 0}
    monkeypatch.setattr(roles.authz, "_well_formed", lambda body: False)  # every request to the view
    view = [check(demo, gate_client, body).get_json() for body in QUESTIONS]
    assert paths["view"] == len(QUESTIONS) and paths["lean"] == len(QUESTIONS)
    assert lean == view
    codes = [answer["code"] for answer in lean]
    assert codes == ["granted", "granted", "out_of_scope", "no_grant", "granted", "granted", "unknown_permission",
                     "unknown_org", "unknown_user", "not_linked", "granted"]
    assert "covers 101001" in lean[0]["reason"] and lean[0]["allowed"] is True


def test_a_committed_change_is_seen_on_the_next_lean_check(demo, gate_client, paths):
    """Nothing is kept between requests (two app instances on one database: test_gate_decisions)."""
    g = grant("teacher", "eser.writer", "101")
    body = {"username": "teacher", "permission": "eser.student.write", "org": "101001"}
    assert check(demo, gate_client, body).get_json()["allowed"] is True
    suspend(g, actor="system:test", reason="on leave")
    db.session.commit()
    answer = check(demo, gate_client, body).get_json()
    assert answer["allowed"] is False and answer["code"] == "no_grant"
    restore(g, actor="system:test", reason="back")
    db.session.commit()
    assert check(demo, gate_client, body).get_json()["allowed"] is True
    get_user("teacher").active_link.staff_record.status = "leave"
    db.session.commit()
    assert check(demo, gate_client, body).get_json()["code"] == "staff_not_active"
    assert paths == {"lean": 4, "view": 0}


def test_a_caller_who_lost_the_permission_gets_the_views_403_and_its_event(demo, gate_client, paths):
    caller_grant = db.session.execute(db.select(Grant).where(Grant.role_code == "edlink.gate_client")).scalar_one()
    revoke(caller_grant, actor="system:test", reason="client retired")
    db.session.commit()
    resp = check(demo, gate_client, {"username": "teacher", "permission": "eser.student.read"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert paths == {"lean": 1, "view": 1}
    denied = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "authz.denied")).scalars().all()
    assert [(e.actor, e.details["permission"]) for e in denied] == [("stateadmin", "edlink.authz.check")]


def test_revoked_or_expired_tokens_and_disabled_callers_get_the_views_401(demo, gate_client, paths):
    body = {"username": "teacher", "permission": "eser.student.read"}
    admin = get_user("stateadmin")
    admin.disabled = True
    db.session.commit()
    assert check(demo, gate_client, body).get_json()["error"]["code"] == "invalid_token"
    admin.disabled = False
    db.session.commit()
    assert check(demo, gate_client, body).status_code == 200
    row = db.session.execute(db.select(ApiToken).where(ApiToken.name == "gate client")).scalar_one()
    clock.set_now(row.expires_at + timedelta(seconds=1))
    assert check(demo, gate_client, body).get_json()["error"]["code"] == "invalid_token"
    clock.set_now(None)
    edlink.tokens.revoke_token(admin, row.id, actor="system:test")
    db.session.commit()
    assert check(demo, gate_client, body).status_code == 401
    assert check(demo, "edl_not-a-token", body).status_code == 401
    assert paths["lean"] == 5 and paths["view"] == 4  # the good one answered lean, the rest by the view


def test_the_tokens_last_use_is_still_recorded_to_the_minute(demo, gate_client, paths):
    body = {"username": "teacher", "permission": "eser.student.read"}
    row = db.session.execute(db.select(ApiToken).where(ApiToken.name == "gate client")).scalar_one()
    first = row.last_used_at
    assert check(demo, gate_client, body).status_code == 200
    assert paths == {"lean": 1, "view": 0}
    clock.set_now(first + timedelta(minutes=1, seconds=1))
    assert check(demo, gate_client, body).status_code == 200
    assert paths == {"lean": 2, "view": 1}
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).last_used_at == first + timedelta(minutes=1, seconds=1)
    assert check(demo, gate_client, body).status_code == 200
    assert paths == {"lean": 3, "view": 1}


@pytest.mark.parametrize("body", [
    {"username": "teacher"},
    {"username": "teacher", "permission": "eser.student.read", "extra": 1},
    {"username": "teacher", "permission": "eser.student.read", "org": 101},
    {"username": 7, "permission": "eser.student.read"},
    ["teacher", "eser.student.read"],
])
def test_bodies_the_schema_refuses_get_the_views_422(demo, gate_client, paths, body):
    resp = check(demo, gate_client, body)
    assert resp.status_code == 422 and paths == {"lean": 0, "view": 1}


def test_a_body_that_is_not_json_gets_the_views_answer(demo, gate_client, paths):
    resp = demo.test_client().post("/api/v1/authz/check", headers={"Authorization": f"Bearer {gate_client}"},
                                   data="username=teacher", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 422 and paths == {"lean": 0, "view": 1}


@pytest.mark.parametrize("debug", [False, True])
def test_the_lean_answer_is_the_views_byte_for_byte(demo, gate_client, paths, monkeypatch, debug):
    """Status, content type and body: a caller cannot tell which path answered (Flask indents
    JSON in debug mode)."""
    grant("teacher", "eser.writer", "101")
    demo.debug = debug
    lean = [check(demo, gate_client, body) for body in QUESTIONS]
    monkeypatch.setattr(roles.authz, "_well_formed", lambda body: False)
    view = [check(demo, gate_client, body) for body in QUESTIONS]
    assert paths == {"lean": len(QUESTIONS), "view": len(QUESTIONS)}
    for a, b in zip(lean, view, strict=True):
        assert (a.status, a.content_type, a.get_data()) == (b.status, b.content_type, b.get_data())
        assert a.headers.get("Set-Cookie") is None and b.headers.get("Set-Cookie") is None


def test_requests_with_cookies_or_odd_bodies_go_to_the_view(demo, gate_client, paths):
    body = {"username": "teacher", "permission": "eser.student.read"}
    expected = check(demo, gate_client, body).get_json()
    assert paths == {"lean": 1, "view": 0}
    client = demo.test_client()
    client.set_cookie("something", "else")
    resp = client.post("/api/v1/authz/check", headers={"Authorization": f"Bearer {gate_client}"}, json=body)
    assert resp.get_json() == expected and paths == {"lean": 1, "view": 1}
    # a body sent in chunks (no length) is read by the view
    chunked = demo.test_client().post(
        "/api/v1/authz/check", input_stream=io.BytesIO(json.dumps(body).encode()),
        headers={"Authorization": f"Bearer {gate_client}", "Content-Type": "application/json",
                 "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})  # as a server that undoes the chunking says
    assert chunked.get_json() == expected and paths == {"lean": 1, "view": 2}
    # a JSON type with parameters, and a +json type, are JSON to both paths
    for content_type in ("application/json; charset=utf-8", "application/problem+json"):
        resp = demo.test_client().post("/api/v1/authz/check", data=json.dumps(body), content_type=content_type,
                                       headers={"Authorization": f"Bearer {gate_client}"})
        assert resp.get_json() == expected
    assert paths == {"lean": 3, "view": 2}
    # an oversized body goes to the view, which reads it whole (and refuses the unknown field)
    big = {**body, "padding": "x" * roles.authz.MAX_BODY}
    assert check(demo, gate_client, big).status_code == 422 and paths == {"lean": 3, "view": 3}


def test_other_paths_and_methods_pass_through_untouched(demo, gate_client, paths):
    assert demo.test_client().get("/api/v1/authz/check",
                                  headers={"Authorization": f"Bearer {gate_client}"}).status_code == 405
    assert demo.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {gate_client}"}).status_code == 200
    assert paths["lean"] == 0


def test_a_failure_on_the_lean_path_is_logged_and_the_view_answers(demo, gate_client, paths, monkeypatch, caplog):
    def broken(*args):
        paths["lean"] += 1
        raise RuntimeError("the lean path broke")
    monkeypatch.setattr(roles.authz, "_read", broken)
    resp = check(demo, gate_client, {"username": "teacher", "permission": "eser.student.read"})
    assert resp.status_code == 200 and resp.get_json()["code"] in ("granted", "no_grant")
    assert paths == {"lean": 1, "view": 1}
    assert "the lean path failed" in caplog.text and "the lean path broke" in caplog.text


def test_the_statement_survives_the_servers_prepared_statements_being_dropped(demo, gate_client, paths):
    """On PostgreSQL the lean statement is a named prepared statement of its own; psycopg drops
    every prepared statement of a connection (DEALLOCATE ALL) after a rollback. The next check
    prepares it again. On SQLite the same calls run on the cursor."""
    body = {"username": "teacher", "permission": "eser.student.read", "org": "101"}
    first = check(demo, gate_client, body).get_json()
    engine = db.engine
    pooled = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            pooled.driver_connection.execute("DEALLOCATE ALL")
            pooled.driver_connection.commit()
            assert prepared(pooled.driver_connection) == []
        digest = hashlib.sha256(gate_client.encode()).hexdigest()
        rows = roles.authz._BOTH.rows_idle(pooled.driver_connection, engine.dialect,
                                           {"token_hash": digest, "username": "teacher"})
        assert {(bool(row[0]), bool(row[1]), row[6]) for row in rows} == {(True, False, "stateadmin"),
                                                                         (False, True, "teacher")}
        if engine.dialect.name == "postgresql":  # prepared again, under its own name
            assert [name.startswith("edlink_") for name in prepared(pooled.driver_connection)] == [True]
        if engine.dialect.name == "postgresql":
            pooled.driver_connection.execute("DEALLOCATE ALL")
            pooled.driver_connection.commit()
    finally:
        pooled.close()
    assert [check(demo, gate_client, body).get_json() for _ in range(3)] == [first] * 3
    assert paths == {"lean": 4, "view": 0}


def prepared(driver) -> list[str]:
    names = [row[0] for row in driver.execute("SELECT name FROM pg_prepared_statements").fetchall()]
    driver.commit()
    return [name for name in names if not name.startswith("_pg3_")]  # psycopg's own


@pytest.mark.skipif(DB_KIND == "sqlite", reason="SQLite: a SELECT opens no transaction, nothing to refuse")
def test_the_statement_refuses_a_connection_inside_a_transaction(demo):
    engine = db.engine
    pooled = engine.raw_connection()
    try:
        pooled.driver_connection.execute("SELECT 1")  # psycopg opens a transaction
        with pytest.raises(RuntimeError, match="outside any transaction"):
            roles.authz._BOTH.rows_idle(pooled.driver_connection, engine.dialect,
                                        {"token_hash": "x", "username": "teacher"})
    finally:
        pooled.close()
