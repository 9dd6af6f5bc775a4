"""POST /api/v1/authz/check's lean path (roles/authz.py): one statement for the common case, the
same answers as the view, and everything unusual handed to the view (401, 403 with its event,
422, the token's "last used")."""
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


def grant(username, role, org):
    g = create_grant(get_user(username), role, get_org(org), source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    return g


@pytest.fixture
def paths(monkeypatch):
    """Counts of requests answered by the lean path and by the view (its token lookup)."""
    seen = {"lean": 0, "view": 0}
    read, lookup = roles.authz._read, edlink.tokens.user_for_token

    def counted_read(params):
        seen["lean"] += 1
        return read(params)

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
