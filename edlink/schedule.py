"""When each job is due: ``EDLINK_JOB_SCHEDULE`` over the defaults, read once per scheduler.

A job's schedule is one of:

* a whole number of seconds (``60``): due when that long has passed since its last run started;
* ``daily HH:MM``: due once a day at that time in ``EDLINK_TIMEZONE`` (APScheduler's CronTrigger
  does the calendar, daylight saving included);
* ``cron M H DOM MON DOW``: a crontab line, in ``EDLINK_TIMEZONE``;
* ``off`` (or ``0``): never run by the scheduler (``edlink jobs run`` still runs it).

"Last run" is the last row of ``job_run`` for the job, whoever ran it, so a scheduler that takes
the lease over carries on the schedule where the previous one left it, and a job that never ran
is due at once. A job with no entry anywhere runs hourly; ``audit.verify`` runs daily at
``EDLINK_AUDIT_VERIFY_HOUR``.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DEFAULT_SECONDS = 3600
DEFAULTS: dict[str, Any] = {
    "notifications.dispatch": 60,
    "provisioning.push": 60,
    "requests.deadlines": 15 * 60,
    "grants.expire": 15 * 60,
}
_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})$")
_MICRO = _dt.timedelta(microseconds=1)


class ScheduleError(ValueError):
    """A schedule value that cannot be read."""


@dataclass(frozen=True)
class Schedule:
    job: str
    text: str  # the value as configured, normalised
    every: _dt.timedelta | None = None
    trigger: CronTrigger | None = None

    @property
    def enabled(self) -> bool:
        return self.every is not None or self.trigger is not None

    def next_due(self, last_started: _dt.datetime | None) -> _dt.datetime | None:
        """When the job is next due after a run that started at ``last_started``; None when it is
        off. A job that never ran is due at once (``datetime.min``)."""
        if not self.enabled:
            return None
        if last_started is None:
            return _dt.datetime.min.replace(tzinfo=_dt.UTC)
        if self.every is not None:
            return last_started + self.every
        fire = self.trigger.get_next_fire_time(None, last_started + _MICRO)
        return None if fire is None else fire.astimezone(_dt.UTC)

    def is_due(self, last_started: _dt.datetime | None, now: _dt.datetime,
               early: _dt.timedelta = _dt.timedelta(0)) -> bool:
        """Is the job due at ``now``? An interval job may be taken up to ``early`` before its time
        (the scheduler passes half its tick, so an interval does not slip by a tick every run)."""
        due = self.next_due(last_started)
        if due is not None and self.every is not None and last_started is not None:
            due -= min(early, self.every / 2)
        return due is not None and due <= now

    def describe(self) -> str:
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
                if seconds % size == 0 and seconds >= size:
                    count = seconds // size
                    return f"every {count} {unit}{'s' if unit == 'day' and count != 1 else ''}"
            return f"every {seconds} s"
        if self.trigger is not None:
            return self.text.replace("daily ", "daily at ") + f" ({self.trigger.timezone})"
        return "off (run by hand only)"


def parse(job: str, value: Any, timezone: str) -> Schedule:
    """Read one schedule value (see the module documentation)."""
    if isinstance(value, bool):
        raise ScheduleError(f"{job}: {value!r} is not a schedule")
    text = str(value).strip().lower()
    if text in ("off", "0"):
        return Schedule(job, "off")
    if text.isdigit():
        return Schedule(job, text, every=_dt.timedelta(seconds=int(text)))
    zone = ZoneInfo(timezone)
    daily = _DAILY.match(text)
    if daily:
        hour, minute = int(daily.group(1)), int(daily.group(2))
        if hour > 23 or minute > 59:
            raise ScheduleError(f"{job}: {value!r} is not a time of day")
        return Schedule(job, f"daily {hour:02d}:{minute:02d}", trigger=CronTrigger(hour=hour, minute=minute,
                                                                                   timezone=zone))
    if text.startswith("cron"):
        expression = text[4:].lstrip(" :")
        try:
            return Schedule(job, f"cron {expression}", trigger=CronTrigger.from_crontab(expression, timezone=zone))
        except ValueError as exc:
            raise ScheduleError(f"{job}: {value!r} is not a crontab line ({exc})") from exc
    raise ScheduleError(f"{job}: {value!r} is not a schedule (seconds, 'daily HH:MM', 'cron M H DOM MON DOW' "
                        "or 'off')")


def configured(config: Any) -> dict[str, Any]:
    """EDLINK_JOB_SCHEDULE as a mapping: a JSON object / TOML table, or ``name=value,name=value``."""
    raw = config.get("JOB_SCHEDULE") or {}
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ScheduleError(f"not a JSON object ({exc.msg})") from exc
        else:
            pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ScheduleError("write it as a JSON object or as name=value,name=value")
            raw = {name.strip(): value.strip() for name, value in pairs}
    if not isinstance(raw, dict):
        raise ScheduleError("write it as a JSON object or as name=value,name=value")
    return dict(raw)


def schedule_for(job: str, config: Any) -> Schedule:
    value = configured(config).get(job)
    if value is None:
        value = DEFAULTS.get(job, DEFAULT_SECONDS)
        if job == "audit.verify":
            value = f"daily {int(config['AUDIT_VERIFY_HOUR']):02d}:00"
    return parse(job, value, str(config["TIMEZONE"]))


def check(config: Any) -> None:
    """Refuse a configuration whose schedule cannot be read (at start-up, as ConfigError)."""
    for job, value in configured(config).items():
        parse(str(job), value, str(config["TIMEZONE"]))
