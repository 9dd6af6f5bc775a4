"""Linking a signed-in username to a staff ID: the registration-portal rule.

A link is made only when the staff record exists, its HR status is active, it carries the
caller's username (trimmed, case-insensitive), nobody else holds it and the caller holds no
other. Every attempt is an audit event; failures are rate-limited per user.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

import audit
import notifications
from audit.models import AuditEvent
from edlink import clock
from edlink.errors import DomainError
from edlink.extensions import db, savepoint
from edlink.models import Link, StaffRecord, User
from edlink.staff import STAFF_ID_RE, username_key


class LinkRefused(DomainError):
    """A refused link attempt. The refusal is itself recorded, so it is committed."""

    commit = True


REFUSALS = {
    "rate_limited": (429, "Too many failed link attempts in the last hour; try again later."),
    "already_linked": (409, "Your account is already linked to a staff record."),
    "invalid_staff_id": (422, "A staff ID is 10 digits."),
    "unknown_staff_id": (404, "No staff record has that staff ID. Check the number with your "
                              "school system's data manager."),
    "link_mismatch": (403, "That staff record does not carry your username. Ask your school "
                           "system's data manager to enter your username on your staff record."),
    "hr_not_active": (409, "That staff record is not active yet (HR processing is not complete); "
                           "you can link once your school system marks it active."),
    "staff_already_linked": (409, "That staff record is already linked to another account. "
                                  "Contact your school system's data manager."),
}


def _refuse(user: User, code: str, staff_id: str, record: StaffRecord | None = None):
    status, message = REFUSALS[code]
    audit.record("link.failed", user, ("staff_record", staff_id[:20] or None),
                 record.lea if record is not None else None, {"reason": code})
    raise LinkRefused(code, message, status=status,
                      fields={"staff_id": [message]} if code == "invalid_staff_id" else None)


def failures_last_hour(user: User) -> int:
    """Attempts the rule refused in the last hour. Attempts the limit itself turned away are
    audited too but do not count, so the limit is "5 an hour", not "an hour after you stop"."""
    return db.session.execute(db.select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "link.failed", AuditEvent.actor_id == user.id,
        AuditEvent.occurred_at >= clock.now() - timedelta(hours=1),
        AuditEvent.details["reason"].as_string() != "rate_limited")).scalar_one()


def link_account(user: User, staff_id: str) -> Link:
    staff_id = (staff_id or "").strip()
    if failures_last_hour(user) >= int(current_app.config["LINK_MAX_FAILURES_PER_HOUR"]):
        _refuse(user, "rate_limited", staff_id)
    if user.active_link is not None:
        _refuse(user, "already_linked", staff_id)
    if not STAFF_ID_RE.match(staff_id):
        _refuse(user, "invalid_staff_id", staff_id)
    record = db.session.execute(db.select(StaffRecord).where(StaffRecord.staff_id == staff_id)
                                ).scalar_one_or_none()
    if record is None:
        _refuse(user, "unknown_staff_id", staff_id)
    if record.username_key is None or record.username_key != username_key(user.username):
        _refuse(user, "link_mismatch", staff_id, record)
    if record.status != "active":
        _refuse(user, "hr_not_active", staff_id, record)
    taken = db.session.execute(db.select(Link).where(
        Link.staff_record_id == record.id, Link.ended_at.is_(None))).scalar_one_or_none()
    if taken is not None:
        _refuse(user, "staff_already_linked", staff_id, record)
    link = Link(user_id=user.id, staff_record_id=record.id, created_at=clock.now())
    try:
        # A concurrent attempt (the same person in two tabs, or two people) that got past the
        # checks above meets the partial unique indexes here: refuse it like the checks would.
        with savepoint():
            db.session.add(link)
            db.session.flush()
    except IntegrityError:
        mine = db.session.execute(db.select(Link.id).where(
            Link.user_id == user.id, Link.ended_at.is_(None))).scalar()
        _refuse(user, "already_linked" if mine is not None else "staff_already_linked", staff_id, record)
    audit.record("link.created", user, link, record.lea,
                 {"staff_id": staff_id, "username": user.username})
    notifications.notify(user, "link.created", {"staff_id": staff_id, "username": user.username,
                                                "employer": record.lea.name}, link="/account")
    return link
