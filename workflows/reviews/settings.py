"""Review settings (``EDLINK_REVIEW_*``), checked at start-up, and review periods.

- ``REVIEW_RECURRENCE``: months between automatic reviews per application, a mapping
  (``{"eser": 6, "edlink": 12}`` in edlink.toml or as JSON in the environment, or the text
  ``eser=6,edlink=12``). 12 is annual, 6 semiannual; 1, 2, 3 and 4 work too. 0 or absent: no
  automatic reviews of that application (coordinators may still start one).
- ``REVIEW_DUE_DAYS`` (30): calendar days a review stays open unless its starter says otherwise.
- ``REVIEW_DEFAULT_OUTCOME`` (remove): what undecided items get at the deadline: keep, remove,
  or recommendation (the decision helpers' recommendation).
- ``REVIEW_REMOVAL_GUARD`` (0.5): when the deadline would remove more than this share of the
  school system's grants of the application, nothing is removed: the review is held and
  escalated to the state administrators.
- ``REVIEW_REMINDER_DAYS`` (7, 1): reminders go to the reviewers this many days before the deadline.
- ``REVIEW_INACTIVE_DAYS`` (90): no sign-in for longer makes the helpers recommend removal.
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from flask import Flask, current_app

DEFAULTS: dict[str, Any] = {
    "REVIEW_RECURRENCE": {"eser": 6, "edlink": 12},
    "REVIEW_DUE_DAYS": 30,
    "REVIEW_DEFAULT_OUTCOME": "remove",
    "REVIEW_REMOVAL_GUARD": 0.5,
    "REVIEW_REMINDER_DAYS": [7, 1],
    "REVIEW_INACTIVE_DAYS": 90,
}
MONTHS = (1, 2, 3, 4, 6, 12)
OUTCOMES = ("keep", "remove", "recommendation")


def _recurrence(value: Any) -> dict[str, int]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            value = json.loads(text)
        else:
            value = dict(part.split("=", 1) for part in text.replace(";", ",").split(",") if part.strip())
    if not isinstance(value, dict):
        raise ValueError("a mapping of application code to months")
    out = {}
    for app_code, months in value.items():
        months = int(months)
        if months and months not in MONTHS:
            raise ValueError(f"{app_code}: {months} months does not divide the year (use 12, 6, 4, 3, 2 or 1)")
        out[str(app_code).strip()] = months
    return out


def check(app: Flask) -> None:
    """Fill in defaults and refuse settings that cannot be used (ConfigError stops the app)."""
    from edlink.config import ConfigError
    config = app.config
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    try:
        config["REVIEW_RECURRENCE"] = _recurrence(config["REVIEW_RECURRENCE"])
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"EDLINK_REVIEW_RECURRENCE must map applications to months ({exc})") from exc
    try:
        config["REVIEW_DUE_DAYS"] = int(config["REVIEW_DUE_DAYS"])
        config["REVIEW_INACTIVE_DAYS"] = int(config["REVIEW_INACTIVE_DAYS"])
    except (TypeError, ValueError) as exc:
        raise ConfigError("EDLINK_REVIEW_DUE_DAYS and EDLINK_REVIEW_INACTIVE_DAYS must be whole numbers "
                          "of days") from exc
    if not 1 <= config["REVIEW_DUE_DAYS"] <= 366 or config["REVIEW_INACTIVE_DAYS"] < 1:
        raise ConfigError("EDLINK_REVIEW_DUE_DAYS must be 1 to 366 days; EDLINK_REVIEW_INACTIVE_DAYS at least 1")
    outcome = str(config["REVIEW_DEFAULT_OUTCOME"]).strip().lower()
    if outcome not in OUTCOMES:
        raise ConfigError(f"EDLINK_REVIEW_DEFAULT_OUTCOME must be keep, remove or recommendation, not {outcome!r}")
    config["REVIEW_DEFAULT_OUTCOME"] = outcome
    try:
        guard = float(config["REVIEW_REMOVAL_GUARD"])
    except (TypeError, ValueError):
        guard = -1.0
    if not 0 <= guard <= 1:
        raise ConfigError("EDLINK_REVIEW_REMOVAL_GUARD must be a share from 0 to 1 (e.g. 0.5)")
    config["REVIEW_REMOVAL_GUARD"] = guard
    days = config["REVIEW_REMINDER_DAYS"]
    if isinstance(days, str):
        days = [d for d in days.replace(";", ",").split(",") if d.strip()]
    try:
        days = sorted({int(d) for d in (days if isinstance(days, (list, tuple)) else [days])}, reverse=True)
    except (TypeError, ValueError) as exc:
        raise ConfigError("EDLINK_REVIEW_REMINDER_DAYS must be whole numbers of days, e.g. 7,1") from exc
    if any(d < 1 for d in days):
        raise ConfigError("EDLINK_REVIEW_REMINDER_DAYS must be at least 1 day each")
    config["REVIEW_REMINDER_DAYS"] = days


def setting(key: str) -> Any:
    return current_app.config[key]


def months_for(application: str) -> int:
    return int(setting("REVIEW_RECURRENCE").get(application, 0) or 0)


def period_of(application: str, at: _dt.datetime) -> str:
    """The review period ``at`` falls in (the state's local date): 2026 (annual), 2026-H2
    (semiannual), 2026-Q3 (quarterly), else the year and the period's first month (2026-05)."""
    from edlink.calendar import calendar
    day = calendar().local_day(at)
    months = months_for(application) or 12
    index = (day.month - 1) // months
    if months == 12:
        return f"{day.year}"
    if months == 6:
        return f"{day.year}-H{index + 1}"
    if months == 3:
        return f"{day.year}-Q{index + 1}"
    return f"{day.year}-{index * months + 1:02d}"
