"""Who may see and change which student: the gate, applied in the query and to one record.

A student belongs to the org of its jurisdiction: its site (a school, or a nonpublic school or
early-childhood centre an LEA serves) and that site's LEA. A grant at the LEA covers the site
(edlink.orgs), so "the site or the LEA is in the caller's scope" is the one filter every list
uses, inside its SQL, and ``gate.require(permission, site or LEA)`` is the check on one record.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import or_

import audit
from edlink import clock
from edlink.errors import NotFound
from edlink.extensions import db
from edlink.models import Org, User
from roles import gate
from ser_core.models import SerStudent

READ, WRITE, SECURE_ID = "eser.student.read", "eser.student.write", "eser.secure_id.assign"
INACTIVE_YEARS = 5


def in_scope(permission: str, user: User):
    """The SQL condition: the student's site or LEA is where ``user`` holds ``permission``."""
    ids = sorted(gate.orgs_with(permission, user))
    return or_(SerStudent.site_id.in_(ids), SerStudent.lea_id.in_(ids))


def org_of(student: SerStudent) -> Org:
    return student.site if student.site_id is not None else student.lea


def inactive_since() -> _dt.datetime:
    """Records last changed at or before this instant are inactive (five years or more old)."""
    now = clock.now()
    try:
        return now.replace(year=now.year - INACTIVE_YEARS)
    except ValueError:  # 29 February
        return now.replace(year=now.year - INACTIVE_YEARS, day=28)


def is_inactive(student: SerStudent) -> bool:
    return student.record_updated_at <= inactive_since()


def find_student(state_id: str) -> SerStudent | None:
    return db.session.execute(db.select(SerStudent).where(SerStudent.state_id == (state_id or "").strip())
                              ).scalar_one_or_none()


def get_student_record(state_id: str) -> SerStudent:
    """The student by State ID, unchecked: only for claims, which the gate checks at the claiming site."""
    student = find_student(state_id)
    if student is None:
        raise NotFound("student_not_found", f"No student with State ID {state_id} is in SER.")
    return student


def load(state_id: str, permission: str, user: User, viewed: str | None = None) -> SerStudent:
    """The student, when ``user`` holds ``permission`` where the student is (403 and an
    ``authz.denied`` event otherwise). ``viewed`` names the part read: a ``ser.student.viewed``
    event records the read."""
    student = get_student_record(state_id)
    gate.require(permission, org_of(student), user)
    if viewed:
        event("ser.student.viewed", user, student, {"section": viewed})
    return student


def event(action: str, user, student: SerStudent, details: dict | None = None):
    """An audit event about ``student`` at its LEA (the target is the student's State ID)."""
    return audit.record(action, user, student, student.lea, {"state_id": student.state_id, **(details or {})})


def touch(student: SerStudent) -> None:
    """The record changed: it is active again for the next five years."""
    student.record_updated_at = clock.now()
