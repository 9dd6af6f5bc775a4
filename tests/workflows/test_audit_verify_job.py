"""The nightly ``audit.verify`` job: quiet while the trail is intact; when it is broken, every state
administrator is alerted and the run is recorded as failed."""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink import clock, jobs
from edlink.extensions import db
from edlink.job_models import JobRun
from edlink.scheduler import Scheduler
from edlink.users import find_local_user
from notifications.models import Notification, OutboxMessage
from tests.audit.tamper import tamper
from tests.edlink.test_cli import one_line_error, run

EVENT = "audit.verify_failed"


def alerts() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.execute(db.select(Notification).where(Notification.event == EVENT)).scalars())


def last_run() -> JobRun:
    db.session.expire_all()
    return db.session.execute(db.select(JobRun).where(JobRun.job == "audit.verify")
                              .order_by(JobRun.id.desc()).limit(1)).scalar_one()


def test_an_intact_trail_alerts_nobody(demo):
    result = jobs.run("audit.verify")
    assert result["events_verified"] > 0 and result["head_seq"] == result["events_verified"]
    assert alerts() == []
    assert last_run().outcome == "ok"


def test_a_broken_trail_alerts_every_state_administrator(demo):
    tamper("UPDATE audit_event SET action = action || '.changed' WHERE seq = 3")
    with pytest.raises(jobs.JobFailed, match="broken at seq 3"):
        jobs.run("audit.verify")
    admin = find_local_user("stateadmin")
    (alert,) = alerts()
    assert alert.user_id == admin.id and alert.link == "/audit/verify"
    assert "sequence number 3" in alert.summary and "altered" in alert.summary
    mail = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.event == EVENT)).scalar_one()
    assert mail.subject == "Audit trail verification failed at event 3"
    assert "incident procedure" in mail.body_text
    row = last_run()
    assert row.outcome == "failed" and "audit trail broken at seq 3: altered" in row.error
    assert row.summary["bad_seq"] == 3 and row.summary["problem"] == "altered" and row.summary["alerted"] == 1

    # the command says so too, on one line, and alerts again: the trail is still broken
    one_line_error(run(demo, "jobs", "run", "audit.verify"), "audit trail broken at seq 3", "job_failed")
    assert len(alerts()) == 2


def test_the_scheduler_runs_it_nightly(demo):
    """Daily at EDLINK_AUDIT_VERIFY_HOUR (02:00) in EDLINK_TIMEZONE (America/Chicago: 08:00 UTC in winter)."""
    night = _dt.datetime(2031, 1, 14, 8, 0, tzinfo=_dt.UTC)
    from tests.edlink.test_scheduler import only_core_jobs
    scheduler = Scheduler(only_core_jobs(demo), holder="scheduler-A")
    assert "audit.verify" in scheduler.tick(night - _dt.timedelta(hours=12))  # first start: runs at once
    tamper("UPDATE audit_event SET action = action || '.changed' WHERE seq = 3")
    assert "audit.verify" not in scheduler.tick(night - _dt.timedelta(minutes=1))
    assert alerts() == []
    assert "audit.verify" in scheduler.tick(night)
    assert len(alerts()) == 1 and last_run().outcome == "failed"
    assert "audit.verify" not in scheduler.tick(night + _dt.timedelta(hours=23))
    assert "audit.verify" in scheduler.tick(night + _dt.timedelta(hours=24))
    assert len(alerts()) == 2
    clock.set_now(None)
