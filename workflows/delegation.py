"""Delegation: an approver names someone to decide their stages for a date range.

The delegate must be an active, linked user employed by the same school system as the approver, or
a state administrator. While the delegation covers today (in the state's time zone) the delegate
sees the approver's stages in their inbox and may decide them; each such decision records both.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

import audit
from edlink import authz, clock
from edlink.calendar import calendar
from edlink.errors import Forbidden, Invalid, NotFound
from edlink.extensions import db
from edlink.models import User
from edlink.orgs import state_org
from workflows import notices, routing
from workflows.models import Delegation

MAX_DAYS = 366


def _find_user(username: str) -> User | None:
    return db.session.execute(db.select(User).where(db.func.lower(User.username) == (username or "").strip().lower())
                              ).scalars().first()


def _lea_id(user: User) -> int | None:
    link = user.active_link
    if link is None or link.staff_record.status != "active":
        return None
    return link.staff_record.lea_id


def create(approver: User, delegate_username: str, starts_on: _dt.date, ends_on: _dt.date) -> Delegation:
    if not authz.orgs_with("edlink.request.approve", approver):
        raise Forbidden("not_an_approver", "Only people who approve requests can delegate their approvals.")
    today = calendar().local_day(clock.now())
    if ends_on < starts_on:
        raise Invalid("bad_dates", "The delegation must end on or after the day it starts.",
                      fields={"ends_on": ["before starts_on"]})
    if ends_on < today:
        raise Invalid("bad_dates", "The delegation would already be over.", fields={"ends_on": ["in the past"]})
    if (ends_on - starts_on).days > MAX_DAYS:
        raise Invalid("bad_dates", f"A delegation lasts at most {MAX_DAYS} days.", fields={"ends_on": ["too long"]})
    delegate = _find_user(delegate_username)
    if delegate is None or delegate.disabled:
        raise NotFound("unknown_user", f"No active user is called {delegate_username!r}.",
                       fields={"delegate": ["unknown"]})
    if delegate.id == approver.id:
        raise Invalid("self_delegation", "You cannot delegate to yourself.", fields={"delegate": ["yourself"]})
    is_state_admin = any(u.id == delegate.id for u in routing.holders(routing.STATE_ADMIN, state_org()))
    same_lea = _lea_id(delegate) is not None and _lea_id(delegate) == _lea_id(approver)
    if not (same_lea or is_state_admin):
        raise Invalid("delegate_not_allowed", "The delegate must be an active, linked member of your school "
                      "system's staff, or a state administrator.", fields={"delegate": ["not allowed"]})
    made = Delegation(approver_id=approver.id, delegate_id=delegate.id, starts_on=starts_on, ends_on=ends_on,
                      created_at=clock.now())
    db.session.add(made)
    db.session.flush()
    audit.record("delegation.created", approver, ("delegation", made.id), None,
                 {"delegate": delegate.username, "starts_on": starts_on, "ends_on": ends_on})
    notices.delegated(approver, delegate, starts_on, ends_on)
    return made


def end(approver: User, delegation_id: int) -> Delegation:
    made = db.session.get(Delegation, delegation_id)
    if made is None or made.approver_id != approver.id:
        raise NotFound("unknown_delegation", f"You gave no delegation {delegation_id}.")
    if made.ended_at is None:
        made.ended_at = clock.now()
        audit.record("delegation.ended", approver, ("delegation", made.id), None, {"delegate": made.delegate.username})
    return made


def view(d: Delegation) -> dict[str, Any]:
    today = calendar().local_day(clock.now())
    return {"id": d.id, "approver": d.approver.username, "delegate": d.delegate.username,
            "starts_on": d.starts_on.isoformat(), "ends_on": d.ends_on.isoformat(),
            "ended_at": d.ended_at.isoformat() if d.ended_at else None, "in_effect": d.covers(today)}


def overview(user: User) -> dict[str, list[dict[str, Any]]]:
    given = db.session.execute(db.select(Delegation).where(Delegation.approver_id == user.id)
                               .order_by(Delegation.starts_on.desc())).scalars().all()
    received = db.session.execute(db.select(Delegation).where(Delegation.delegate_id == user.id)
                                  .order_by(Delegation.starts_on.desc())).scalars().all()
    return {"given": [view(d) for d in given], "received": [view(d) for d in received]}
