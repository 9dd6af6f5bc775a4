"""Dates as SER's forms take them: a field parsed once with its label in the message, and whole
years added the way anniversaries fall (29 February becomes 28 February)."""
from __future__ import annotations

import datetime as _dt

from edlink.errors import Invalid


def parse_date(value, name: str, label: str) -> _dt.date | None:
    """``value`` (a date, an ISO string, or empty) as a date; 422 "<label> must be a date." otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        message = f"{label} must be a date."
        raise Invalid("invalid_date", message, fields={name: [message]}) from None


def add_years(day: _dt.date, years: int) -> _dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
