"""Requests: checks at submission, routing by the requester's LEA, decisions and their refusals."""
import datetime as dt

import pytest

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.catalog import load
from roles.grants import create_grant
from roles.models import Grant
from workflows import attestations, decisions, routing
from workflows.models import Delegation
from workflows.requests import RequestRefused, cancel, submit


def u(name):
    return get_user(name)


def sign_statement(user):
    if attestations.current_statement() is None:
        attestations.publish("2026-1", "Confidentiality statement", "I keep student data confidential.", None,
                             actor="system:test")
    attestations.sign(user, "2026-1")


def code_of(fn, *args, **kwargs):
    with pytest.raises(RequestRefused) as caught:
        fn(*args, **kwargs)
    db.session.rollback()
    return caught.value.code


def events(action):
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).scalars().all()


def test_the_path_is_supervisor_then_coordinator_of_the_requesters_lea(demo):
    stages = routing.plan(load().role("eser.reader"), get_org("101002"), u("teacher"))
    assert [s.label() for s in stages] == [
        "Special Education Supervisor, Pinecrest Parish School System",
        "Security Coordinator, Pinecrest Parish School System"]
    assert [[a.username for a in s.approvers] for s in stages] == [["supervisor"], ["coordinator"]]


def test_no_approver_at_the_lea_falls_back_to_the_state(demo):
    # Harbor City (102) has neither a supervisor nor a coordinator in the demo
    request_stages = routing.plan(load().role("eser.reader"), get_org("102001"), u("teacher"))
    assert all(s.at_state for s in request_stages)
    assert request_stages[0].label() == ("State Administrator (no Special Education Supervisor at "
                                         "Harbor City Schools)")
    assert [a.username for a in request_stages[0].approvers] == ["stateadmin"]


def test_submission_refusals_have_their_own_codes(demo):
    teacher, site, other_site = u("teacher"), get_org("101002"), get_org("101001")
    assert code_of(submit, u("newstaff"), "eser.reader", site, "need it") == "not_linked"
    assert code_of(submit, teacher, "eser.reader", site, "   ") == "justification_required"
    assert code_of(submit, teacher, "eser.reader", other_site, "need it") == "org_not_allowed"
    assert code_of(submit, teacher, "eser.reader", get_org("NP1011"), "need it") == "org_not_requestable"
    assert code_of(submit, teacher, "eser.iep_submit", site, "need it") == "scope_not_allowed"
    assert code_of(submit, teacher, "eser.reader", get_org("102"), "need it") == "org_not_allowed"
    assert code_of(submit, teacher, "eser.iep_forms", site, "need it") == "statement_required"
    past = clock.now() - dt.timedelta(days=1)
    assert code_of(submit, teacher, "eser.reader", site, "need it", ends_at=past) == "end_date_in_past"
    submit(teacher, "eser.reader", site, "I teach students with IEPs.")
    db.session.commit()
    assert code_of(submit, teacher, "eser.reader", site, "again") == "already_requested"


def test_approval_walks_the_stages_and_creates_the_grant(demo):
    teacher = u("teacher")
    sign_statement(teacher)
    request = submit(teacher, "eser.iep_forms", get_org("101002"), "I write IEPs for my caseload.")
    db.session.commit()
    assert request.open_stage().position == 1
    assert code_of(decisions.approve, u("coordinator"), request) == "not_routed_to_you"
    decisions.approve(u("supervisor"), request, "ok")
    db.session.commit()
    assert request.status == "pending" and request.open_stage().position == 2
    decisions.approve(u("coordinator"), request)
    db.session.commit()
    assert request.status == "approved"
    grant = db.session.get(Grant, request.grant_id)
    assert (grant.user_id, grant.role_code, grant.org.code, grant.source) == (teacher.id, "eser.iep_forms",
                                                                              "101002", "request")
    assert [e.action for e in events("request.stage_approved")] == ["request.stage_approved"] * 2
    assert len(events("request.approved")) == 1
    assert code_of(decisions.approve, u("coordinator"), request) == "already_decided"


def test_self_approval_and_second_stage_are_refused(demo):
    coordinator = u("coordinator")
    # the coordinator also becomes the supervisor: they may decide stage 1 of someone's request,
    # then not stage 2 of the same request
    create_grant(coordinator, "eser.sped_supervisor", get_org("101"), source="demo", granted_by=None,
                 actor="system:test")
    db.session.commit()
    request = submit(u("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    decisions.approve(coordinator, request)
    db.session.commit()
    stage2 = request.open_stage()
    # routing kept the stage-1 approver out of stage 2's approvers, so nobody at the LEA: the state
    assert stage2.at_state and [a.user.username for a in stage2.approvers] == ["stateadmin"]
    assert code_of(decisions.approve, coordinator, request) in ("second_stage", "not_routed_to_you")

    own = submit(coordinator, "eser.reader", get_org("101"), "my own")
    db.session.commit()
    assert code_of(decisions.approve, coordinator, own) == "self_approval"


def test_deny_needs_a_reason_and_tells_the_requester(demo):
    request = submit(u("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    assert code_of(decisions.deny, u("supervisor"), request, "  ") == "reason_required"
    decisions.deny(u("supervisor"), request, "Not on a special-education caseload.")
    db.session.commit()
    assert (request.status, request.outcome_reason) == ("denied", "Not on a special-education caseload.")
    assert events("request.denied")[0].details["reason"] == "Not on a special-education caseload."


def test_cancel_only_by_the_requester_while_pending(demo):
    request = submit(u("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    assert code_of(cancel, u("supervisor"), request) == "not_your_request"
    cancel(u("teacher"), request)
    db.session.commit()
    assert request.status == "cancelled"
    assert code_of(cancel, u("teacher"), request) == "not_cancellable"
    assert code_of(decisions.approve, u("supervisor"), request) == "already_decided"


def test_a_delegate_decides_and_both_people_are_recorded(demo):
    today = clock.today()
    db.session.add(Delegation(approver_id=u("supervisor").id, delegate_id=u("datamanager").id,
                              starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=7)))
    request = submit(u("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    decisions.approve(u("datamanager"), request, "for the supervisor")
    db.session.commit()
    stage1 = request.stages[0]
    assert (stage1.decided_by.username, stage1.on_behalf_of.username) == ("datamanager", "supervisor")
    assert events("request.stage_approved")[0].details["on_behalf_of"] == "supervisor"


def test_holder_limit_is_counted_at_approval(demo):
    lea = get_org("101")
    request = submit(u("teacher"), "eser.secure_id", lea, "I assign state IDs for new enrolments.")
    db.session.commit()
    decisions.approve(u("supervisor"), request)
    db.session.commit()
    for name in ("datamanager", "newstaff"):  # meanwhile two others became Secure ID Managers
        create_grant(u(name), "eser.secure_id", lea, source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    assert code_of(decisions.approve, u("coordinator"), request) == "holder_limit"
    assert request.status == "pending" and request.grant_id is None
