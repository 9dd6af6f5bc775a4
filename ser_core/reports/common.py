"""What every SER report shares: the reader's scope (``eser.report.run``, applied inside the
query), the period (a month, a quarter, a school year or a date range), business days, and the
summary by LEA built from the detail rows."""
from __future__ import annotations

import datetime as _dt
import re
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import or_

from audit.reports.registry import Field, text_arg
from edlink import clock
from edlink.calendar import calendar
from edlink.errors import Forbidden, Invalid, NotFound
from edlink.orgs import covered_org_ids, find_org
from roles import gate
from ser_core.dates import add_years  # noqa: F401  (the reports import it from here)
from ser_core.models import SerStudent

PERMISSION = "eser.report.run"
MONTH_RE, QUARTER_RE = re.compile(r"^(\d{4})-(\d{2})$"), re.compile(r"^(\d{4})-Q([1-4])$")
SCHOOL_YEAR_RE = MONTH_RE  # 2025-26: the second part is the next year's last two digits
ORG_FIELD = Field("org", "LEA or site code", help="Empty: everything you may report on.")
PERIOD_FIELD = Field("period", "Period", help="A month (2026-10), a quarter (2026-Q4) or a school year (2025-26); "
                     "or leave it empty and give From and To.")
SINCE_FIELD = Field("since", "From", help="YYYY-MM-DD (a date range)")
UNTIL_FIELD = Field("until", "To", help="YYYY-MM-DD, inclusive")


def scope(user, org_code: str | None) -> tuple[list[int], str]:
    """The org ids the report covers (where ``user`` holds eser.report.run) and their label."""
    allowed = gate.orgs_with(PERMISSION, user)
    if not allowed:
        raise Forbidden("forbidden", "SER reports need the eser.report.run permission (SER Data Reader or above).")
    if not org_code:
        return sorted(allowed), "your SER scope"
    org = find_org(org_code)
    if org is None:
        raise NotFound("unknown_org", f"No organisation has the code {org_code!r}.")
    wanted = covered_org_ids(org)
    if not wanted <= allowed:
        raise Forbidden("forbidden", f"You may not run SER reports for {org.code}: it is outside your scope.")
    return sorted(wanted), f"{org.code} {org.name}"


def student_in(ids: list[int], lea_column=None):
    """Students whose site, or whose record's LEA (``lea_column``, default the student's), is in ``ids``."""
    lea = lea_column if lea_column is not None else SerStudent.lea_id
    return or_(SerStudent.site_id.in_(ids), lea.in_(ids))


def _date(args: Mapping[str, str], name: str) -> _dt.date | None:
    raw = text_arg(args, name)
    if raw is None:
        return None
    try:
        return _dt.date.fromisoformat(raw)
    except ValueError:
        raise Invalid("bad_filter", f"{name} must be a date (YYYY-MM-DD), not {raw!r}.",
                      fields={name: ["not a date"]}) from None


def school_year_of(day: _dt.date) -> int:
    """The first calendar year of the school year (July 1 to June 30) ``day`` falls in."""
    return day.year if day.month >= 7 else day.year - 1


def parse_period(args: Mapping[str, str], default: str = "month") -> dict:
    """``period`` (month YYYY-MM, quarter YYYY-Qn, school year YYYY-YY) or ``since``/``until``;
    default: the current month (or school year)."""
    raw = text_arg(args, "period")
    since, until = _date(args, "since"), _date(args, "until")
    if raw is None and (since or until):
        if not (since and until):
            raise Invalid("bad_filter", "A date range needs both From and To.", fields={"since": ["both needed"]})
        if until < since:
            raise Invalid("bad_filter", "To is before From.", fields={"until": ["before From"]})
        return {"period": None, "since": since.isoformat(), "until": until.isoformat(),
                "label": f"{since:%m/%d/%Y} to {until:%m/%d/%Y}"}
    today = clock.today()
    if raw is None:
        raw = f"{today:%Y-%m}" if default == "month" else \
            f"{school_year_of(today)}-{(school_year_of(today) + 1) % 100:02d}"
    if m := QUARTER_RE.match(raw):
        year, q = int(m[1]), int(m[2])
        start = _dt.date(year, 3 * q - 2, 1)
        end = (_dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)) - _dt.timedelta(days=1)
        label = f"{year} Q{q}"
    elif (m := SCHOOL_YEAR_RE.match(raw)) and int(m[2]) == (int(m[1]) + 1) % 100:
        start, end = _dt.date(int(m[1]), 7, 1), _dt.date(int(m[1]) + 1, 6, 30)
        label = f"school year {raw}"
    elif (m := MONTH_RE.match(raw)) and 1 <= int(m[2]) <= 12:
        start = _dt.date(int(m[1]), int(m[2]), 1)
        end = _dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1) - _dt.timedelta(days=1)
        label = f"{start:%B %Y}"
    else:
        raise Invalid("bad_filter", f"period must be a month (2026-10), a quarter (2026-Q4) or a school year "
                      f"(2025-26), not {raw!r}.", fields={"period": ["unknown period"]})
    return {"period": raw, "since": start.isoformat(), "until": end.isoformat(), "label": label}


def bounds(params: dict) -> tuple[_dt.date, _dt.date]:
    return _dt.date.fromisoformat(params["since"]), _dt.date.fromisoformat(params["until"])


def add_business_days(day: _dt.date, n: int) -> _dt.date:
    """The n-th business day after ``day`` (weekdays that are not EDLINK_HOLIDAYS)."""
    return calendar().add_business_days(day, n)


def business_days_between(start: _dt.date, end: _dt.date) -> int:
    """Business days after ``start`` up to and including ``end``."""
    return calendar().days_between(start, end)


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def summarize(records: list[dict]) -> list[tuple]:
    """Per LEA: students, in timeline, out of timeline, percent in timeline."""
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        groups[(r["student"].lea.code, r["student"].lea.name)][0 if r["in_timeline"] else 1] += 1
    return [(code, name, i + o, i, o, percent(i, i + o)) for (code, name), (i, o) in sorted(groups.items())]


def names(student: SerStudent) -> tuple[str, str, str, str, str]:
    """LEA Code, School, State ID, Last Name, First Name."""
    return (student.lea.code, student.site.code if student.site else "", student.state_id, student.last_name,
            student.first_name)


STUDENT_COLUMNS = ("LEA Code", "School", "State ID", "Last Name", "First Name")
SUMMARY_COLUMNS = ("LEA Code", "LEA Name", "Students", "In Timeline", "Out of Timeline", "Percent In Timeline")
