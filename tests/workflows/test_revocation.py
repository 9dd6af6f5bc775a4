"""Revocation: coordinators in scope, holders giving theirs up, bulk by employee number; each audited and notified."""
from audit.models import AuditEvent
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from notifications.models import Notification
from roles import gate
from roles.grants import create_grant
from roles.models import Grant
from tests.conftest import login


def grant(username, role, org):
    g = create_grant(get_user(username), role, get_org(org), source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    return g


def revoked_events(grant_id):
    return db.session.execute(db.select(AuditEvent).where(
        AuditEvent.action == "grant.revoked", AuditEvent.target_id == str(grant_id))).scalars().all()


def notices(username, event="grant.revoked"):
    return db.session.execute(db.select(Notification).where(
        Notification.user_id == get_user(username).id, Notification.event == event)).scalars().all()


def test_a_coordinator_revokes_in_scope_with_a_reason(demo, client):
    g = grant("teacher", "eser.reader", "101002")
    login(client, "coordinator")
    resp = client.post(f"/api/v1/grants/{g.id}/revoke", json={})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "reason_required"
    resp = client.post(f"/api/v1/grants/{g.id}/revoke", json={"reason": "moved to another school system"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["status"], body["revoked_by"], body["revoked_reason"]) == (
        "revoked", "coordinator", "moved to another school system")
    assert len(revoked_events(g.id)) == 1
    assert [n.title for n in notices("teacher")]
    assert not gate.can(get_user("teacher"), "eser.student.read", get_org("101002"))
    again = client.post(f"/api/v1/grants/{g.id}/revoke", json={"reason": "again"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "grant_revoked"


def test_outside_scope_is_not_found_and_auditors_may_not_revoke(demo, client):
    g = grant("teacher", "eser.reader", "102")  # LEA 102: not the coordinator's
    login(client, "coordinator")
    assert client.post(f"/api/v1/grants/{g.id}/revoke", json={"reason": "x"}).status_code == 404
    client.post("/logout")
    login(client, "auditor")  # sees everything, revokes nothing
    resp = client.post(f"/api/v1/grants/{g.id}/revoke", json={"reason": "x"})
    assert resp.status_code == 403
    assert db.session.get(Grant, g.id).status == "active"


def test_a_holder_gives_up_their_own_grant(demo, client):
    g = grant("teacher", "eser.reader", "101002")
    login(client, "teacher")
    resp = client.post(f"/api/v1/grants/{g.id}/revoke", json={})
    assert resp.status_code == 200 and resp.get_json()["status"] == "revoked"
    event = revoked_events(g.id)[0]
    assert event.actor == "teacher" and event.details["given_up"] is True
    assert notices("teacher")


def test_bulk_revocation_reports_per_employee_number(demo, client):
    teacher_reader = grant("teacher", "eser.reader", "101002")
    teacher_outside = grant("teacher", "eser.reader", "102")
    supervisor_grant = db.session.execute(db.select(Grant).where(
        Grant.user_id == get_user("supervisor").id)).scalars().first()
    login(client, "coordinator")
    resp = client.post("/api/v1/grants/bulk-revoke", json={
        "employee_numbers": "20000002, 20000004\n20000001 99999999 1234 20000007 20000002",
        "reason": "left the district (HR list of 2026-11-20)"})
    assert resp.status_code == 200, resp.get_json()
    lines = {line["employee_number"]: line for line in resp.get_json()["results"]}
    assert list(lines) == ["20000002", "20000004", "20000001", "99999999", "1234", "20000007"]
    assert lines["20000002"]["outcome"] == "revoked"
    assert [r["grant"] for r in lines["20000002"]["revoked"]] == [teacher_reader.id]
    assert "1 outside your scope" in lines["20000002"]["message"]
    assert lines["20000004"]["outcome"] == "revoked"
    assert [r["grant"] for r in lines["20000004"]["revoked"]] == [supervisor_grant.id]
    assert lines["20000001"] == {**lines["20000001"], "outcome": "nothing"}  # newstaff: never linked
    assert lines["99999999"]["outcome"] == "refused" and "no staff record" in lines["99999999"]["message"]
    assert lines["1234"]["outcome"] == "refused" and "8 digits" in lines["1234"]["message"]
    assert lines["20000007"]["outcome"] == "refused" and "outside your scope" in lines["20000007"]["message"]
    assert db.session.get(Grant, teacher_outside.id).status == "active"
    assert db.session.get(Grant, teacher_reader.id).status == "revoked"
    for g in (teacher_reader, supervisor_grant):
        [event] = revoked_events(g.id)
        assert event.details["bulk"] is True and event.actor == "coordinator"
    assert notices("teacher") and notices("supervisor")


def test_bulk_revocation_needs_a_reason_numbers_and_a_scope(demo, client):
    login(client, "teacher")
    assert client.post("/api/v1/grants/bulk-revoke", json={"employee_numbers": ["20000002"],
                                                           "reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, "coordinator")
    resp = client.post("/api/v1/grants/bulk-revoke", json={"employee_numbers": [], "reason": "x"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "no_employee_numbers"
    resp = client.post("/api/v1/grants/bulk-revoke", json={"employee_numbers": ["20000002"], "reason": " "})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "reason_required"


def test_grants_expire_job(demo):
    from datetime import timedelta

    from edlink import clock, jobs
    g = create_grant(get_user("teacher"), "eser.reader", get_org("101"), source="demo", granted_by=None,
                     actor="system:test", ends_at=clock.now() + timedelta(days=1))
    db.session.commit()
    assert jobs.run("grants.expire", clock.now() + timedelta(days=2)) == {"expired": 1, "expiring_notices": 0}
    assert db.session.get(Grant, g.id).status == "expired"
    assert jobs.run("grants.expire", clock.now() + timedelta(days=2)) == {"expired": 0, "expiring_notices": 0}
