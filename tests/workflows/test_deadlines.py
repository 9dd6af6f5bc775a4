"""Reminders, escalation and expiry happen on the right business day when the job runs with a moved clock."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from workflows import deadlines, decisions
from workflows.requests import RequestRefused, submit

CHI = ZoneInfo("America/Chicago")


def at(*args):
    return dt.datetime(*args, tzinfo=CHI).astimezone(dt.UTC)


def seed_at(when):
    from edlink.demo import seed
    clock.set_now(when)
    seed()
    db.session.commit()


@pytest.fixture
def monday_request(app):
    seed_at(at(2026, 10, 1, 9, 0))
    clock.set_now(at(2026, 11, 2, 10, 0))  # Monday
    request = submit(get_user("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    return request


def run(when):
    clock.set_now(when)
    result = deadlines.run()
    db.session.commit()
    return result


def test_reminder_at_half_time_once(monday_request):
    stage = monday_request.open_stage()
    assert stage.due_at == at(2026, 11, 10, 0, 0)  # end of Monday 9th: 5 business days
    assert run(at(2026, 11, 4, 23, 0))["reminded"] == 0
    assert run(at(2026, 11, 5, 0, 30))["reminded"] == 1  # two business days have run
    assert run(at(2026, 11, 5, 8, 0))["reminded"] == 0
    assert stage.reminded_at == at(2026, 11, 5, 0, 30)


def test_overdue_stage_escalates_to_the_state_which_may_decide(monday_request):
    request = monday_request
    with pytest.raises(RequestRefused) as refused:
        decisions.approve(get_user("stateadmin"), request)
    assert refused.value.code == "not_routed_to_you"
    db.session.rollback()
    assert run(at(2026, 11, 9, 23, 59))["escalated"] == 0
    assert run(at(2026, 11, 10, 0, 1))["escalated"] == 1
    assert run(at(2026, 11, 10, 9, 0))["escalated"] == 0
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "request.escalated")).scalars().all()
    assert len(events) == 1 and events[0].details["to"] == ["stateadmin"]
    decisions.approve(get_user("stateadmin"), request, "escalated; approved for the supervisor")
    db.session.commit()
    assert request.stages[0].decided_by.username == "stateadmin"
    assert request.open_stage().position == 2


def test_untouched_request_expires_after_twenty_business_days(monday_request):
    request = monday_request
    assert run(at(2026, 11, 30, 23, 0))["expired"] == 0  # 20th business day is Monday 30th
    assert run(at(2026, 12, 1, 0, 5))["expired"] == 1
    assert request.status == "expired" and request.open_stage() is None
    assert run(at(2026, 12, 2, 0, 5))["expired"] == 0
    with pytest.raises(RequestRefused) as refused:
        decisions.approve(get_user("supervisor"), request)
    assert refused.value.code == "already_decided"


def test_holidays_push_the_deadline(make_app):
    make_app(HOLIDAYS=["2026-11-26", "2026-11-27"])
    seed_at(at(2026, 10, 1, 9, 0))
    clock.set_now(at(2026, 11, 23, 9, 0))
    request = submit(get_user("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    assert request.open_stage().due_at == at(2026, 12, 3, 0, 0)  # end of Wednesday, December 2
