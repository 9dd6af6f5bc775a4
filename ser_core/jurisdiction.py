"""Jurisdiction: one LEA owns a student at a time. A claim by another LEA ends the previous
jurisdiction the day before it begins (no gap, no overlap) and is refused while the current LEA
still has open services; a move to another site of the same LEA is a site transfer."""
from __future__ import annotations

import datetime as _dt
import re

from sqlalchemy import or_

from edlink import clock
from edlink.errors import Conflict, Invalid
from edlink.extensions import db
from edlink.models import SITE_KINDS, Org, User
from edlink.orgs import find_org
from roles import gate
from ser_core.access import WRITE, event, touch
from ser_core.models import Jurisdiction, SerService, SerStudent

LOCAL_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
SSN_RE = re.compile(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$")
ONE_DAY = _dt.timedelta(days=1)


def history(student: SerStudent) -> list[Jurisdiction]:
    """The student's jurisdiction records, most recent first."""
    return list(db.session.execute(db.select(Jurisdiction).where(Jurisdiction.student_id == student.id)
                                   .order_by(Jurisdiction.begin_date.desc(), Jurisdiction.id.desc())).scalars())


def latest(student: SerStudent) -> Jurisdiction | None:
    rows = history(student)
    return rows[0] if rows else None


def current(student: SerStudent) -> Jurisdiction | None:
    last = latest(student)
    return last if last is not None and last.end_date is None else None


def open_services_at(student: SerStudent, lea_id: int, on: _dt.date) -> list[SerService]:
    return list(db.session.execute(db.select(SerService).where(
        SerService.student_id == student.id, SerService.lea_id == lea_id,
        or_(SerService.end_date.is_(None), SerService.end_date >= on)).order_by(SerService.begin_date)).scalars())


def check_local_id(local_id: str | None) -> str:
    local_id = (local_id or "").strip()
    if not local_id:
        return ""
    if SSN_RE.match(local_id):
        raise Invalid("local_id_ssn", "Do not use the student's SSN as the Local Student ID.",
                      fields={"local_id": ["looks like an SSN"]})
    if not LOCAL_ID_RE.match(local_id):
        raise Invalid("invalid_local_id", "The Local Student ID is up to 20 letters, digits or dashes.",
                      fields={"local_id": ["up to 20 letters, digits or dashes"]})
    return local_id


def _site(school_code: str | None) -> Org:
    site = find_org((school_code or "").strip())
    if site is None or site.kind not in SITE_KINDS or site.lea is None:
        raise Invalid("unknown_school", f"No school has the code {school_code!r}." if school_code
                      else "School Code is required.", fields={"school_code": ["unknown school code"]})
    return site


def _begin(begin_date: _dt.date | None) -> _dt.date:
    if begin_date is None:
        raise Invalid("begin_date_required", "Begin Date is required.", fields={"begin_date": ["required"]})
    if begin_date > clock.today():
        raise Invalid("begin_date_future", "The Begin Date cannot be in the future.",
                      fields={"begin_date": ["in the future"]})
    return begin_date


def claim(student: SerStudent, school_code: str, begin_date: _dt.date | None, local_id: str | None,
          user: User) -> Jurisdiction:
    """Claim jurisdiction at ``school_code`` from ``begin_date`` (or transfer the student to that
    site when the LEA already has jurisdiction). The LEA is the school's: the writer's own."""
    site = _site(school_code)
    lea = site.lea
    gate.require(WRITE, site, user)
    local_id = check_local_id(local_id)
    begin_date = _begin(begin_date)
    # one claim at a time per student: the second waits here and then sees the first's record
    db.session.execute(db.select(SerStudent.id).where(SerStudent.id == student.id).with_for_update())
    last = latest(student)
    now_open = last if last is not None and last.end_date is None else None
    if last is not None and begin_date <= last.begin_date:
        raise Invalid("begin_date_too_early", f"The Begin Date must be after {last.begin_date:%m/%d/%Y}, "
                      "the begin date of the latest jurisdiction record.", fields={"begin_date": ["too early"]})
    if last is not None and last.end_date is not None and begin_date <= last.end_date:
        raise Invalid("begin_date_too_early", f"The Begin Date must be after {last.end_date:%m/%d/%Y}, "
                      "when the last jurisdiction ended.", fields={"begin_date": ["too early"]})
    transfer = now_open is not None and now_open.lea_id == lea.id
    if student.lea_id != lea.id:  # the LEA that has (or last had) the student must have closed its services
        services = open_services_at(student, student.lea_id, begin_date)
        if services:
            owner = student.lea
            raise Conflict("open_services", f"{owner.name} ({owner.code}) has open services for this student. "
                           f"Contact {owner.name} to close the services before the student can be picked up.",
                           fields={"contact": {"lea_code": owner.code, "lea_name": owner.name},
                                   "open_services": [s.service_type for s in services]})
    if transfer and now_open.site_id == site.id:
        raise Invalid("same_site", f"The student is already at {site.name} ({site.code}).",
                      fields={"school_code": ["the current site"]})
    previous = None
    if now_open is not None:
        now_open.end_date = begin_date - ONE_DAY
        now_open.end_reason = "transferred" if transfer else "claimed"
        previous = now_open
        db.session.flush()  # the open record ends before the new one opens (one open per student)
    record = Jurisdiction(student_id=student.id, lea_id=lea.id, site_id=site.id,
                          kind="transfer" if transfer else "claim", begin_date=begin_date,
                          local_id=local_id, created_by_id=user.id)
    db.session.add(record)
    from_lea = previous.lea.code if previous is not None else None
    from_site = previous.site.code if previous is not None else None
    student.lea, student.site, student.jurisdiction_open = lea, site, True
    touch(student)
    db.session.flush()
    details = {"lea": lea.code, "site": site.code, "begin_date": begin_date, "local_id": local_id or None,
               "previous_end_date": previous.end_date if previous else None}
    if transfer:
        event("ser.jurisdiction.transferred", user, student, {**details, "from_site": from_site})
    else:
        event("ser.jurisdiction.claimed", user, student, {**details, "from_lea": from_lea, "from_site": from_site})
    return record


def close(student: SerStudent, end_date: _dt.date, user: User, reason: str) -> Jurisdiction:
    """End the open jurisdiction on ``end_date`` with nobody after it (the parent declined the
    initial evaluation). The LEA keeps the record it closed; another LEA may claim later."""
    record = current(student)
    if record is None:
        raise Conflict("no_open_jurisdiction", "The student has no open jurisdiction to close.")
    gate.require(WRITE, record.site, user)
    if end_date < record.begin_date:
        raise Invalid("end_before_begin", f"The date cannot be before {record.begin_date:%m/%d/%Y}, when the "
                      "jurisdiction began.", fields={"declined_on": ["before the jurisdiction began"]})
    record.end_date, record.end_reason = end_date, "closed"
    student.jurisdiction_open = False
    touch(student)
    db.session.flush()
    event("ser.jurisdiction.closed", user, student, {"lea": record.lea.code, "site": record.site.code,
                                                     "end_date": end_date, "reason": reason})
    return record
