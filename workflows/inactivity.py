"""``users.inactivity``: no sign-in for ``EDLINK_INACTIVITY_DAYS`` (default 90) suspends access.

A grant is idle when the holder has not signed in for that many days — counted from the last
sign-in, or for someone who never signed in from when their username was linked (else from when
the account was made) — and the grant itself is at least that old, counting from its creation
or its last restoration (so a grant a coordinator restores gets a full period). Idle active grants
are suspended (cause ``inactivity``); the person is told per grant and their coordinators once.
Only a coordinator restores them (``POST /api/v1/grants/{id}/restore``, or the grant's page): the
next sign-in does not. Idempotent: it only ever looks at active grants.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app
from sqlalchemy import or_

from edlink import clock
from edlink.extensions import db
from edlink.models import Link, User
from roles.models import Grant
from workflows import suspension

ACTOR = "system:users.inactivity"


def inactivity_days() -> int:
    return int(current_app.config["INACTIVITY_DAYS"])


def last_seen(user: User) -> _dt.datetime:
    """The last sign-in; for someone who never signed in, when they were (last) linked."""
    if user.last_login_at is not None:
        return user.last_login_at
    linked = db.session.execute(db.select(db.func.max(Link.created_at)).where(Link.user_id == user.id)).scalar()
    return linked or user.created_at


def _grant_since(grant: Grant) -> _dt.datetime:
    restored = grant.status_changed_at if grant.status == "active" else None
    return max(t for t in (grant.created_at, restored) if t is not None)


def run() -> dict:
    """Suspend every idle active grant as of now (idempotent)."""
    days = inactivity_days()
    now = clock.now()
    cutoff = now - _dt.timedelta(days=days)
    candidates = db.session.execute(
        db.select(Grant).join(User, User.id == Grant.user_id).where(
            Grant.status == "active", Grant.created_at <= cutoff,
            or_(User.last_login_at.is_(None), User.last_login_at <= cutoff),
            or_(Grant.status_changed_at.is_(None), Grant.status_changed_at <= cutoff))
        .order_by(Grant.user_id, Grant.id).with_for_update(skip_locked=True, of=Grant)).scalars().all()
    by_user: dict[int, list[Grant]] = {}
    for grant in candidates:
        by_user.setdefault(grant.user_id, []).append(grant)
    people = suspended = 0
    for held in by_user.values():
        user = held[0].user
        seen = last_seen(user)
        if seen > cutoff:
            continue
        idle = [g for g in held if _grant_since(g) <= cutoff]
        if not idle:
            continue
        never = user.last_login_at is None
        reason = (f"no sign-in for {days} days ({'never signed in' if never else f'last {seen:%Y-%m-%d}'}); "
                  "ask your security coordinator to restore it")
        for grant in idle:
            suspension.suspend(grant, suspension.INACTIVITY, actor=ACTOR, reason=reason,
                               details={"last_seen": seen, "days": days})
            suspension.tell_holder(grant, "grant.suspended", reason)
        link = user.active_link
        record = link.staff_record if link is not None else None
        suspension.tell_coordinators(user, record, [g.org.lea for g in idle],
                                     f"no sign-in for {days} days: access suspended; a coordinator may restore it",
                                     idle)
        people, suspended = people + 1, suspended + len(idle)
    return {"people": people, "suspended": suspended}
