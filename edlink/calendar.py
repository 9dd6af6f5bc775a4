"""Business days: deadlines count weekdays that are not holidays, in the state's own time zone.

Configuration: ``EDLINK_TIMEZONE`` (IANA name, default America/Chicago), ``EDLINK_HOLIDAYS``
(ISO dates, a list in edlink.toml or comma-separated in the environment).

A deadline of N business days from an instant ends at the close (local midnight) of the N-th
business day after the local day the instant falls on; a request opened on a Friday afternoon
with 5 business days is due at the end of the next Friday (or later, past holidays).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from edlink import clock


class CalendarError(ValueError):
    """The time zone or holiday list in the configuration cannot be used."""


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    holidays: frozenset[_dt.date]

    @classmethod
    def build(cls, zone: str, holidays: Iterable[str | _dt.date] | str | None) -> BusinessCalendar:
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"TIMEZONE {zone!r} is not a known time zone (use an IANA name "
                                "such as America/Chicago)") from exc
        if isinstance(holidays, str):
            holidays = [h for h in (part.strip() for part in holidays.split(",")) if h]
        days = set()
        for item in holidays or ():
            if isinstance(item, _dt.date):
                days.add(item)
                continue
            try:
                days.add(_dt.date.fromisoformat(str(item).strip()))
            except ValueError as exc:
                raise CalendarError(f"HOLIDAYS: {item!r} is not a date (YYYY-MM-DD)") from exc
        return cls(tz, frozenset(days))

    def local_day(self, at: _dt.datetime) -> _dt.date:
        return clock.as_utc(at).astimezone(self.zone).date()

    def is_business_day(self, day: _dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, day: _dt.date, n: int) -> _dt.date:
        """The n-th business day after ``day`` (``day`` itself when n is 0)."""
        while n > 0:
            day += _dt.timedelta(days=1)
            if self.is_business_day(day):
                n -= 1
        return day

    def end_of(self, day: _dt.date) -> _dt.datetime:
        """Local midnight at the end of ``day``, in UTC."""
        nxt = _dt.datetime.combine(day + _dt.timedelta(days=1), _dt.time(), tzinfo=self.zone)
        return nxt.astimezone(_dt.UTC)

    def deadline(self, start: _dt.datetime, business_days: int) -> _dt.datetime:
        """When ``business_days`` business days from ``start`` run out."""
        return self.end_of(self.add_business_days(self.local_day(start), business_days))

    def halfway(self, start: _dt.datetime, business_days: int) -> _dt.datetime:
        """When half of the business days have run (the reminder point): the end of business day
        ``business_days // 2``; for a one-day deadline, halfway in plain time."""
        if business_days >= 2:
            return self.deadline(start, business_days // 2)
        end = self.deadline(start, business_days)
        return start + (end - start) / 2

    def business_days_between(self, start: _dt.datetime, end: _dt.datetime) -> int:
        """Whole business days from the local day of ``start`` to that of ``end`` (not counting the first)."""
        return self.days_between(self.local_day(start), self.local_day(end))

    def days_between(self, start: _dt.date, end: _dt.date) -> int:
        """Business days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
        count = 0
        while start < end:
            start += _dt.timedelta(days=1)
            if self.is_business_day(start):
                count += 1
        return count


def calendar() -> BusinessCalendar:
    """The configured calendar (built once per app)."""
    cached = current_app.extensions.get("edlink.calendar")
    if cached is None:
        cached = BusinessCalendar.build(current_app.config["TIMEZONE"], current_app.config["HOLIDAYS"])
        current_app.extensions["edlink.calendar"] = cached
    return cached
