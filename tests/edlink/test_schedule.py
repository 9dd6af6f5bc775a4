"""Reading EDLINK_JOB_SCHEDULE and deciding when a job is next due."""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink import create_app
from edlink.config import ConfigError
from edlink.schedule import ScheduleError, parse, schedule_for

UTC = _dt.UTC
CHICAGO = "America/Chicago"


def test_defaults(app):
    config = app.config
    assert schedule_for("notifications.dispatch", config).every == _dt.timedelta(seconds=60)
    assert schedule_for("requests.deadlines", config).every == _dt.timedelta(minutes=15)
    assert schedule_for("grants.expire", config).every == _dt.timedelta(minutes=15)
    assert schedule_for("users.inactivity", config).every == _dt.timedelta(hours=1)  # anything else: hourly
    verify = schedule_for("audit.verify", config)
    assert verify.text == "daily 02:00" and verify.describe() == f"daily at 02:00 ({CHICAGO})"
    assert schedule_for("notifications.dispatch", config).describe() == "every 1 min"
    assert schedule_for("grants.expire", config).describe() == "every 15 min"


def test_overrides_from_the_environment_and_the_verify_hour(app_config, monkeypatch):
    monkeypatch.setenv("EDLINK_JOB_SCHEDULE", '{"grants.expire": 300, "notifications.dispatch": "off"}')
    monkeypatch.setenv("EDLINK_AUDIT_VERIFY_HOUR", "5")
    app = create_app(app_config)
    assert schedule_for("grants.expire", app.config).describe() == "every 5 min"
    assert not schedule_for("notifications.dispatch", app.config).enabled
    assert schedule_for("requests.deadlines", app.config).every == _dt.timedelta(minutes=15)  # untouched
    assert schedule_for("audit.verify", app.config).text == "daily 05:00"

    monkeypatch.setenv("EDLINK_JOB_SCHEDULE", "grants.expire=120, audit.verify=cron 30 1 * * 1-5")
    app = create_app(app_config)
    assert schedule_for("grants.expire", app.config).every == _dt.timedelta(minutes=2)
    assert schedule_for("audit.verify", app.config).text == "cron 30 1 * * 1-5"


def test_overrides_from_the_instance_file(app_config, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "edlink.toml").write_text('AUDIT_VERIFY_HOUR = 3\n[JOB_SCHEDULE]\n"grants.expire" = 120\n'
                                          '"users.inactivity" = "daily 05:30"\n', encoding="utf-8")
    app = create_app(app_config)
    assert schedule_for("grants.expire", app.config).every == _dt.timedelta(minutes=2)
    assert schedule_for("users.inactivity", app.config).describe() == f"daily at 05:30 ({CHICAGO})"
    assert schedule_for("audit.verify", app.config).text == "daily 03:00"


def test_interval_due_after_the_last_start():
    s = parse("x", 900, "UTC")
    last = _dt.datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
    assert s.next_due(None) < last  # never ran: due at once
    assert s.next_due(last) == last + _dt.timedelta(minutes=15)
    assert not s.is_due(last, last + _dt.timedelta(minutes=14))
    assert s.is_due(last, last + _dt.timedelta(minutes=15))
    assert s.is_due(last, last + _dt.timedelta(minutes=14, seconds=58), early=_dt.timedelta(seconds=2.5))


def test_daily_in_the_agency_time_zone_across_daylight_saving():
    s = parse("audit.verify", "daily 02:00", CHICAGO)
    # 2031-03-09 is the spring-forward Sunday in Chicago: 02:00 does not exist, the run is at 03:00 CDT
    before = _dt.datetime(2031, 3, 8, 8, 0, 5, tzinfo=UTC)  # 02:00:05 CST on the 8th
    assert s.next_due(before) == _dt.datetime(2031, 3, 9, 8, 0, tzinfo=UTC)
    after = _dt.datetime(2031, 3, 10, 7, 0, 1, tzinfo=UTC)  # 02:00:01 CDT on the 10th
    assert s.next_due(after) == _dt.datetime(2031, 3, 11, 7, 0, tzinfo=UTC)
    exactly = _dt.datetime(2031, 3, 10, 7, 0, tzinfo=UTC)  # a run that started right on time
    assert s.next_due(exactly) == _dt.datetime(2031, 3, 11, 7, 0, tzinfo=UTC)
    assert not s.is_due(exactly, _dt.datetime(2031, 3, 11, 6, 59, 59, tzinfo=UTC),
                        early=_dt.timedelta(seconds=30))  # never early for a time of day


@pytest.mark.parametrize("value", ["often", "daily 25:00", "daily 2pm", "cron 61 * * * *", True, "-5", "5 min"])
def test_bad_values_are_refused(value):
    with pytest.raises(ScheduleError):
        parse("grants.expire", value, "UTC")


@pytest.mark.parametrize("setting, value, fragment", [
    ("JOB_SCHEDULE", {"grants.expire": "sometimes"}, "EDLINK_JOB_SCHEDULE: grants.expire"),
    ("JOB_SCHEDULE", "grants.expire", "EDLINK_JOB_SCHEDULE"),
    ("JOB_SCHEDULE", "[1, 2]", "EDLINK_JOB_SCHEDULE"),
    ("SCHEDULER_LEASE_SECONDS", 1, "EDLINK_SCHEDULER_LEASE_SECONDS"),
    ("SCHEDULER_TICK_SECONDS", "soon", "EDLINK_SCHEDULER_TICK_SECONDS"),
    ("AUDIT_VERIFY_HOUR", 24, "EDLINK_AUDIT_VERIFY_HOUR"),
])
def test_bad_scheduler_settings_refuse_to_start(app_config, setting, value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        create_app({**app_config, setting: value})
