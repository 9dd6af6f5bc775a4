"""Shared set-up for the access review tests: people with staff records, grants, the clock."""
from __future__ import annotations

import datetime as _dt
import itertools

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.models import Link, StaffRecord
from edlink.orgs import get_org
from edlink.users import create_local_user, get_user
from notifications.models import Notification
from roles.grants import create_grant
from roles.models import Grant

START = _dt.datetime(2027, 3, 1, 15, 0, tzinfo=_dt.UTC)  # a Monday in the first half of 2027 (after the demo data)
_numbers = itertools.count(1)


def staffer(username: str, lea: str = "101", sites: tuple[str, ...] = ("101002",), status: str = "active",
            staff_type: str = "Teacher", signed_in_days_ago: int | None = 3):
    """A user linked to a staff record of their own (fictional, numbered)."""
    n = next(_numbers)
    user = create_local_user(username, "demo-pass-2026", email=f"{username}@demo.example",
                             name=f"Review Staffer {n}", actor="system:test")
    record = StaffRecord(staff_id=f"{3000000000 + n}", employee_number=f"{30000000 + n}", first_name="Review",
                         last_name=f"Staffer {n}", email=f"{username}@demo.example", lea_id=get_org(lea).id,
                         staff_type=staff_type, status=status, username=username, username_key=username.lower())
    record.sites = [get_org(code) for code in sites]
    db.session.add(record)
    db.session.flush()
    db.session.add(Link(user_id=user.id, staff_record_id=record.id))
    if signed_in_days_ago is not None:
        user.last_login_at = clock.now() - _dt.timedelta(days=signed_in_days_ago)
    db.session.flush()
    return user


def grant(user, role: str = "eser.reader", org: str = "101002", days_ago: int = 200) -> Grant:
    made = create_grant(user if not isinstance(user, str) else get_user(user), role, get_org(org), source="demo",
                        granted_by=None, actor="system:test", starts_at=clock.now() - _dt.timedelta(days=days_ago))
    db.session.flush()
    return made


def events(action: str, **where) -> list[AuditEvent]:
    query = db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(db.session.execute(query).scalars())


def notes(username: str, event: str) -> list[Notification]:
    return list(db.session.execute(db.select(Notification).where(
        Notification.user_id == get_user(username).id, Notification.event == event)).scalars())


def status_of(g: Grant) -> str:
    db.session.expire_all()
    return db.session.get(Grant, g.id).status
