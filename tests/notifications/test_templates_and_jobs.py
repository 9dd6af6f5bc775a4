"""Every event's message renders in text and HTML; the jobs command; the mail settings."""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink import create_app
from edlink.cli import main
from edlink.config import ConfigError
from edlink.extensions import db
from notifications import EVENTS, notify
from notifications.events import ACTION
from notifications.models import OutboxMessage
from tests.edlink.test_cli import one_line_error

SAMPLE = {"request_id": 17, "role": "SER Data Writer", "org": "Test LEA", "requester": "Test Staffer",
          "stage": "2 of 2", "decided_by": "Test Coordinator", "reason": "duties changed", "comment": "ok",
          "delegated_by": "Test Supervisor", "escalated_from": "Test Coordinator",
          "expires_on": _dt.date(2030, 8, 1), "review": "2030 spring review", "items": 4,
          "statement_version": "2030", "staff_id": "1000000099", "username": "staffer1", "employer": "Test LEA"}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_renders_text_and_html(app, person, event):
    user = person("staffer1", email="s1@school.example", name="Test Staffer One")
    due = _dt.datetime(2030, 7, 1, 12, 0, tzinfo=_dt.UTC)
    (note,) = notify(user, event, SAMPLE, link="/things/17", due_at=due)
    message = db.session.execute(db.select(OutboxMessage)).scalar_one()
    assert note.title == message.subject and 10 < len(message.subject) <= 300
    assert "None" not in message.subject + message.body_text + note.summary
    for body in (message.body_text, message.body_html):
        assert "Test Staffer One" in body
        assert "https://edlink.test/things/17" in body
        assert "1 July 2030, 12:00 UTC" in body  # by when
        assert "https://edlink.test/notifications/preferences" in body
    assert message.body_html.lstrip().startswith("<!doctype html>")
    if EVENTS[event].kind == ACTION:  # what the reader must do
        assert "What you need to do:" in message.body_text and note.action_needed


def test_without_context_the_messages_still_read(app, person):
    user = person("staffer1", email="s1@school.example")
    for event in EVENTS:
        notify(user, event, {})
    for message in db.session.execute(db.select(OutboxMessage)).scalars():
        assert "None" not in message.body_text and "  " not in message.subject
        assert " ." not in message.body_text and "()" not in message.body_text, message.body_text


def run(app, *args):
    return app.test_cli_runner().invoke(main, list(args))


def test_jobs_run_dispatches_and_refuses_unknown_jobs(app, smtp, person):
    notify(person("staffer1", email="s1@school.example"), "grant.restored", {"role": "R", "org": "O"})
    db.session.commit()
    result = run(app, "jobs", "run", "notifications.dispatch", "--now", "2031-01-01T07:00:00Z")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "notifications.dispatch: digests 0, sent 1, retrying 0, failed 0"
    assert len(smtp.messages) == 1
    db.session.expire_all()
    sent_at = db.session.execute(db.select(OutboxMessage.sent_at)).scalar_one()
    assert sent_at == _dt.datetime(2031, 1, 1, 7, 0, tzinfo=_dt.UTC)  # --now set the clock for the run

    assert "notifications.dispatch" in run(app, "jobs", "list").output
    one_line_error(run(app, "jobs", "run", "reports.nonesuch"), "unknown job 'reports.nonesuch'", "unknown_job")
    one_line_error(run(app, "jobs", "run", "notifications.dispatch", "--now", "yesterday"), "--now")


@pytest.mark.parametrize("setting, value, fragment", [
    ("SMTP_SECURITY", "ssl3", "EDLINK_SMTP_SECURITY"),
    ("SMTP_PORT", "twenty-five", "EDLINK_SMTP_PORT"),
    ("DIGEST_HOUR", 24, "EDLINK_DIGEST_HOUR"),
    ("MAIL_TIMEZONE", "Mars/Olympus_Mons", "EDLINK_MAIL_TIMEZONE"),
    ("MAIL_MAX_ATTEMPTS", 0, "EDLINK_MAIL_MAX_ATTEMPTS"),
])
def test_bad_mail_settings_refuse_to_start(app_config, setting, value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        create_app({**app_config, setting: value})
