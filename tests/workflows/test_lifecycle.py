"""HR-driven lifecycle: the staff import is the change feed; access follows it in the same transaction.

Acceptance: a staff import that terminates someone revokes all their grants and cancels their
pending requests in that same import; a move revokes the old-location grants only. Leave
suspends and the return restores exactly what the leave suspended; a rehire restores nothing.
Each effect is audited with the import that caused it and notified to the person and their
coordinator.
"""
from __future__ import annotations

import datetime as dt

from edlink import clock
from edlink.cli import main
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.staff import add_change_listener
from edlink.users import get_user
from roles import gate
from roles.models import Grant
from tests.conftest import login
from tests.workflows.lifecycle_helpers import (
    TEACHER,
    csv,
    events,
    grant,
    grant_events,
    hr_import,
    notices,
    row,
    status,
)
from workflows.models import AccessRequest
from workflows.requests import submit
from workflows.suspension import COORDINATOR, HR_STATUS, causes, suspend


def request_for(role: str, org: str) -> AccessRequest:
    made = submit(get_user("teacher"), role, get_org(org), "needed for the caseload")
    db.session.commit()
    return made


def request_status(r: AccessRequest) -> str:
    db.session.expire_all()
    return db.session.get(AccessRequest, r.id).status


# --- leavers ---------------------------------------------------------------------------------

def test_termination_revokes_every_grant_and_cancels_pending_requests_in_the_same_import(demo):
    reader = grant("teacher", "eser.reader", "101002")
    writer = grant("teacher", "eser.writer", "101")
    paused = grant("teacher", "eser.reader", "102")
    suspend(paused, COORDINATOR, actor="system:test", reason="checking")
    db.session.commit()
    pending = request_for("eser.writer", "101002")

    result = hr_import(row(TEACHER, status="terminated"), commit=False)
    # the effects are part of the import's own (still uncommitted) transaction
    assert [status(g) for g in (reader, writer, paused)] == ["revoked"] * 3
    assert request_status(pending) == "cancelled"
    db.session.rollback()
    assert [status(g) for g in (reader, writer, paused)] == ["active", "active", "suspended"]
    assert request_status(pending) == "pending"

    result = hr_import(row(TEACHER, status="terminated"))
    batch = result.details["batch"]
    assert result.details["access"] == {"revoked": 3, "requests_cancelled": 1}
    assert [status(g) for g in (reader, writer, paused)] == ["revoked"] * 3
    assert request_status(pending) == "cancelled"
    [imported] = events("staff.imported")[-1:]
    for g in (reader, writer, paused):
        [event] = grant_events(g, "grant.revoked")
        assert event.actor == "system:lifecycle"
        assert event.details["import"] == batch and event.details["import_event"] == imported.seq
        assert event.details["lifecycle"] == "leaver" and event.details["staff_id"] == TEACHER
        assert batch in db.session.get(Grant, g.id).revoked_reason
    [cancelled] = events("request.cancelled", import_event=imported.seq)
    assert cancelled.target_id == str(pending.id) and "left employment" in cancelled.details["reason"]
    # the person per grant and for the request; the coordinator of 101 once, naming everything
    assert len(notices("teacher", "grant.revoked")) == 3
    assert notices("teacher", "request.cancelled")
    [told] = notices("coordinator", "access.changed")
    assert "left employment" in told.summary and "Demo Teacher" in told.summary
    assert not gate.can(get_user("teacher"), "eser.student.read", get_org("101002"))


def test_the_api_and_the_command_line_imports_apply_the_lifecycle(demo, client, tmp_path):
    reader = grant("teacher", "eser.reader", "101002")
    supervisor = db.session.execute(db.select(Grant).where(
        Grant.user_id == get_user("supervisor").id)).scalars().one()
    login(client, "datamanager")
    resp = client.post("/api/v1/staff/import", data=csv(row(TEACHER, status="terminated")).encode(),
                       content_type="text/csv")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["access"] == {"revoked": 1}
    assert status(reader) == "revoked"
    assert grant_events(reader, "grant.revoked")[0].details["imported_by"] == "datamanager"

    path = tmp_path / "hr.csv"
    path.write_text(csv(row("1000000004", status="terminated")))
    out = demo.test_cli_runner().invoke(main, ["staff", "import", str(path)])
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines() == ["access: revoked 1", "created 0, updated 1, unchanged 0, rejected 0"]
    assert status(supervisor) == "revoked"


def test_the_import_page_says_what_happened_to_access(demo, client):
    import io
    grant("teacher", "eser.reader", "101002")
    login(client, "datamanager")
    resp = client.post("/staff/import", data={
        "file": (io.BytesIO(csv(row(TEACHER, status="terminated")).encode()), "staff.csv"),
        "csrf_token": client.csrf_token()}, content_type="multipart/form-data")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="import-access"' in page and "1 grant(s) revoked" in page


def test_a_rehire_restores_nothing(demo):
    reader = grant("teacher", "eser.reader", "101002")
    hr_import(row(TEACHER, status="terminated"))
    result = hr_import(row(TEACHER, status="active"))
    assert "access" not in result.details
    assert status(reader) == "revoked"
    assert db.session.execute(db.select(Grant).where(Grant.user_id == get_user("teacher").id,
                                                     Grant.status == "active")).first() is None


# --- movers ----------------------------------------------------------------------------------

def test_a_move_between_sites_revokes_the_old_location_grants_only(demo):
    at_old_site = grant("teacher", "eser.reader", "101002")
    at_lea = grant("teacher", "eser.writer", "101")              # the school system is unchanged
    served = grant("teacher", "eser.reader", "NP1011")           # a site 101 serves, never assigned
    elsewhere = grant("teacher", "eser.reader", "102")           # not an old location of this person
    old_request = request_for("eser.writer", "101002")
    lea_request = request_for("eser.iep_submit", "101")

    result = hr_import(row(TEACHER, site_codes="101001"))
    assert result.details["access"] == {"revoked": 2, "requests_cancelled": 1}
    assert [status(g) for g in (at_old_site, at_lea, served, elsewhere)] == ["revoked", "active", "revoked", "active"]
    assert (request_status(old_request), request_status(lea_request)) == ("cancelled", "pending")
    event = grant_events(at_old_site, "grant.revoked")[0]
    assert event.details["lifecycle"] == "mover" and event.details["import"] == result.details["batch"]
    assert "request it anew" in db.session.get(Grant, at_old_site.id).revoked_reason
    [moved] = notices("teacher", "access.moved")
    assert moved.link == "/requests/new" and "101001" in moved.summary and "101002" in moved.summary
    [told] = notices("coordinator", "access.changed")
    assert "moved" in told.summary
    teacher = get_user("teacher")
    assert gate.can(teacher, "eser.student.write", get_org("101001"))  # through the LEA grant


def test_a_move_to_another_school_system_keeps_nothing_of_the_old_one(demo):
    at_old_site = grant("teacher", "eser.reader", "101002")
    at_old_lea = grant("teacher", "eser.writer", "101")
    at_new_lea = grant("teacher", "eser.reader", "102")
    result = hr_import(row(TEACHER, lea_code="102", site_codes="102001"))
    assert result.details["access"] == {"revoked": 2}
    assert [status(g) for g in (at_old_site, at_old_lea, at_new_lea)] == ["revoked", "revoked", "active"]
    teacher = get_user("teacher")
    assert not gate.can(teacher, "eser.student.read", get_org("101002"))
    assert notices("teacher", "access.moved") and notices("coordinator", "access.changed")


def test_a_move_without_access_at_the_old_location_tells_nobody(demo):
    hr_import(row(TEACHER, site_codes="101001"))
    assert not notices("teacher", "access.moved") and not notices("coordinator", "access.changed")


# --- leave -----------------------------------------------------------------------------------

def test_leave_suspends_and_the_return_restores_only_what_the_leave_suspended(demo):
    reader = grant("teacher", "eser.reader", "101002")
    writer = grant("teacher", "eser.writer", "101")
    by_hand = grant("teacher", "eser.reader", "102")
    suspend(by_hand, COORDINATOR, actor="system:test", reason="under review")
    db.session.commit()

    away = hr_import(row(TEACHER, status="leave"))
    assert away.details["access"] == {"suspended": 2}
    assert [status(g) for g in (reader, writer, by_hand)] == ["suspended"] * 3
    assert causes(db.session.get(Grant, g.id) for g in (reader, writer, by_hand)) == {
        reader.id: HR_STATUS, writer.id: HR_STATUS, by_hand.id: COORDINATOR}
    assert grant_events(reader, "grant.suspended")[-1].details["import"] == away.details["batch"]
    assert len(notices("teacher", "grant.suspended")) == 2
    assert "leave" in notices("coordinator", "access.changed")[-1].summary

    back = hr_import(row(TEACHER, status="active"))
    assert back.details["access"] == {"restored": 2}
    assert [status(g) for g in (reader, writer, by_hand)] == ["active", "active", "suspended"]
    restored = grant_events(reader, "grant.restored")[-1]
    assert restored.actor == "system:lifecycle" and restored.details["import"] == back.details["batch"]
    assert len(notices("teacher", "grant.restored")) == 2
    assert gate.can(get_user("teacher"), "eser.student.read", get_org("101002"))


def test_leave_then_termination_revokes_the_suspended_grants(demo):
    reader = grant("teacher", "eser.reader", "101002")
    hr_import(row(TEACHER, status="leave"))
    result = hr_import(row(TEACHER, status="terminated"))
    assert result.details["access"] == {"revoked": 1}
    assert status(reader) == "revoked"


def test_a_statement_that_lapsed_during_leave_keeps_those_roles_suspended(demo):
    from workflows import attestations
    start = clock.now().replace(microsecond=0) + dt.timedelta(minutes=5)
    clock.set_now(start)
    attestations.sign(get_user("teacher"), attestations.current_statement().version)
    db.session.commit()
    forms = grant("teacher", "eser.iep_forms", "101002")
    reader = grant("teacher", "eser.reader", "101")
    hr_import(row(TEACHER, status="leave"))
    clock.set_now(start + dt.timedelta(days=400))
    back = hr_import(row(TEACHER, status="active"))
    assert back.details["access"] == {"restored": 1, "suspended": 1}
    assert (status(forms), status(reader)) == ("suspended", "active")
    assert causes([db.session.get(Grant, forms.id)]) == {forms.id: "statement"}
    attestations.sign(get_user("teacher"), attestations.current_statement().version)
    db.session.commit()
    assert status(forms) == "active"


def test_listeners_see_only_changes_to_existing_records(demo):
    seen = []
    add_change_listener(demo, lambda staff_import: seen.append(
        sorted((c.record.staff_id, c.field, c.old, c.new) for c in staff_import.changes)))
    new = "1000000301,20000301,Demo,Joiner,joiner@demo.example,101,101001,Teacher,active,"
    hr_import(new, row(TEACHER, staff_type="Counselor"), row("1000000003"))
    assert seen == [[(TEACHER, "staff_type", "Teacher", "Counselor")]]
