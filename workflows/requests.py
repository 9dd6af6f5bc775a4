"""Access requests: asking for a role for oneself, the checks, and cancelling.

The same checks run at submission and again at final approval (``check_eligible``); each failure
has its own code (see REFUSALS). Decisions live in workflows.decisions.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app
from sqlalchemy.exc import IntegrityError

import audit
from edlink import clock
from edlink.errors import DomainError
from edlink.extensions import db, savepoint
from edlink.models import Org, StaffRecord, User
from roles.catalog import Role, load
from roles.grants import LEVEL_OF_KIND
from roles.models import Grant
from workflows import attestations, notices, routing
from workflows.models import AccessRequest

REFUSALS = {
    "not_linked": (403, "Link your account to your staff record before requesting access."),
    "staff_not_active": (403, "Your staff record is not active, so you cannot request access. "
                              "Ask your school system's data manager."),
    "scope_not_allowed": (422, "{role} is granted at {levels} level, not at a {kind}."),
    "org_not_requestable": (422, "{org} is a nonpublic school or early-childhood centre: access there "
                                 "comes with the school system that serves it. Request it at {lea}."),
    "org_not_allowed": (403, "You can request {role} only at {allowed}."),
    "statement_required": (403, "{role} needs a current signed confidentiality statement. Sign it first."),
    "already_granted": (409, "You already hold {role} at {org}."),
    "already_requested": (409, "You already have a pending request for {role} at {org}."),
    "justification_required": (422, "Say why you need this access (a justification is required)."),
    "end_date_in_past": (422, "The end date must be in the future."),
    "end_date_too_far": (422, "{role} can be granted for at most {days} days; choose an end date "
                              "on or before {latest}."),
    "holder_limit": (409, "{org} already has {limit} active {role} holders, the most allowed."),
    "no_approver": (409, "Nobody can approve {role} at {org} right now (no approver and no state "
                         "administrator). Contact the state help desk."),
    "not_cancellable": (409, "This request is {status}; only a pending request can be cancelled."),
    "not_your_request": (403, "Only the person who made a request can cancel it."),
}


class RequestRefused(DomainError):
    """A request, decision or cancellation the rules refuse (code in REFUSALS)."""


def refuse(code: str, fields: dict | None = None, **context) -> RequestRefused:
    status, message = REFUSALS[code]
    return RequestRefused(code, message.format(**context), status=status, fields=fields)


def _staff(user: User) -> StaffRecord:
    link = user.active_link
    if link is None:
        raise refuse("not_linked")
    record = link.staff_record
    if record.status != "active":
        raise refuse("staff_not_active")
    return record


def allowed_orgs(user: User, role: Role) -> list[Org]:
    """The orgs ``user`` may ask ``role`` for: their school system for district-level roles, the
    sites they are assigned to for site-level roles, the state for state staff; never a
    nonpublic or early-childhood site on its own."""
    link = user.active_link
    if link is None:
        return []
    record = link.staff_record
    out: list[Org] = []
    employer = record.lea
    if "state" in role.scope and employer.kind == "state":
        out.append(employer)
    if "lea" in role.scope and employer.kind == "lea":
        out.append(employer)
    if "site" in role.scope:
        out += [s for s in record.sites if s.kind == "school"]
    return out


def _check_org(user: User, role: Role, org: Org) -> None:
    level = LEVEL_OF_KIND[org.kind]
    if org.kind in ("nonpublic", "early_childhood"):
        lea = org.lea
        raise refuse("org_not_requestable", org=org.name, lea=lea.name if lea else "its school system")
    if level not in role.scope:
        raise refuse("scope_not_allowed", role=role.name, levels=" or ".join(role.scope), kind=org.kind)
    allowed = allowed_orgs(user, role)
    if org not in allowed:
        where = ", ".join(o.code for o in allowed) or "no org (your staff record has no matching assignment)"
        raise refuse("org_not_allowed", role=role.name, allowed=where)


def _end_date(role: Role, ends_at: _dt.datetime | None) -> _dt.datetime | None:
    now = clock.now()
    if ends_at is not None and ends_at <= now:
        raise refuse("end_date_in_past", fields={"ends_at": ["in the past"]})
    if role.max_days:
        latest = now + _dt.timedelta(days=role.max_days)
        if ends_at is None:
            return latest
        if ends_at > latest:
            raise refuse("end_date_too_far", fields={"ends_at": ["too far"]}, role=role.name,
                         days=role.max_days, latest=latest.date().isoformat())
    return ends_at


def holder_count(role: Role, lea: Org | None) -> int:
    if lea is None:
        return 0
    now = clock.now()
    grants = db.session.execute(db.select(Grant).where(Grant.role_code == role.code, Grant.status == "active")
                                ).scalars().all()
    return len({g.user_id for g in grants if g.in_force(now) and (g.org.id == lea.id or g.org.lea == lea)})


def check_eligible(user: User, role: Role, org: Org, *, at_approval: bool = False,
                   request: AccessRequest | None = None) -> None:
    """Everything a request must satisfy (at submission, and again at final approval)."""
    _staff(user)
    _check_org(user, role, org)
    if role.requires_statement and not attestations.is_current(user):
        raise refuse("statement_required", role=role.name)
    held = db.session.execute(db.select(Grant).where(
        Grant.user_id == user.id, Grant.role_code == role.code, Grant.org_id == org.id, Grant.status == "active")
    ).scalars().all()
    if any(g.in_force(clock.now()) for g in held):
        raise refuse("already_granted", role=role.name, org=org.code)
    if not at_approval:
        pending = db.session.execute(db.select(AccessRequest.id).where(
            AccessRequest.requester_id == user.id, AccessRequest.role_code == role.code,
            AccessRequest.org_id == org.id, AccessRequest.status == "pending")).first()
        if pending is not None:
            raise refuse("already_requested", role=role.name, org=org.code)
    elif role.max_holders_per_lea and holder_count(role, routing.request_lea(org)) >= role.max_holders_per_lea:
        lea = routing.request_lea(org)
        raise refuse("holder_limit", org=lea.name if lea else org.name, limit=role.max_holders_per_lea,
                     role=role.name)


def submit(user: User, role_code: str, org: Org, justification: str,
           ends_at: _dt.datetime | None = None) -> AccessRequest:
    """Submit a request for ``user`` and open its first stage (approvers are told)."""
    role = load().role(role_code)
    justification = (justification or "").strip()
    if not justification:
        raise refuse("justification_required", fields={"justification": ["required"]})
    check_eligible(user, role, org)
    ends_at = _end_date(role, ends_at)
    now = clock.now()
    lea = routing.request_lea(org)
    request = AccessRequest(requester_id=user.id, requester=user, role_code=role.code, org_id=org.id, org=org,
                            lea_id=lea.id if lea else None, lea=lea, justification=justification,
                            ends_at=ends_at, status="pending", submitted_at=now, last_activity_at=now)
    try:
        with savepoint():
            db.session.add(request)
            db.session.flush()
    except IntegrityError:  # a simultaneous identical submission won the race
        raise refuse("already_requested", role=role.name, org=org.code) from None
    stages = routing.create_stages(request, role)
    approvers = routing.open_stage(request, stages[0], stage_days())
    if not approvers:
        raise refuse("no_approver", role=role.name, org=org.code)
    audit.record("request.submitted", user, request, org,
                 {"role": role.code, "justification": justification, "ends_at": ends_at,
                  "path": [routing.stage_label(s) for s in stages]})
    notices.submitted(request, stages[0], approvers)
    return request


def stage_days() -> int:
    return int(current_app.config["STAGE_DEADLINE_BUSINESS_DAYS"])


def cancel(user: User, request: AccessRequest) -> AccessRequest:
    if request.requester_id != user.id:
        raise refuse("not_your_request")
    lock(request)
    if request.status != "pending":
        raise refuse("not_cancellable", status=request.status)
    stage = request.open_stage()
    request.status, request.decided_at = "cancelled", clock.now()
    request.last_activity_at = request.decided_at
    if stage is not None:
        stage.status = "closed"
    audit.record("request.cancelled", user, request, request.org, {"role": request.role_code})
    notices.cancelled(request, stage)
    return request


def withdraw(request: AccessRequest, *, actor, reason: str, details: dict | None = None) -> bool:
    """Cancel a pending request on the requester's behalf (the HR lifecycle: they left, or moved
    away from the org it is for). The requester and the stage's approvers are told why. Answers
    whether it was still pending."""
    lock(request)
    if request.status != "pending":
        return False
    stage = request.open_stage()
    request.status, request.decided_at = "cancelled", clock.now()
    request.last_activity_at, request.outcome_reason = request.decided_at, reason
    if stage is not None:
        stage.status = "closed"
    audit.record("request.cancelled", actor, request, request.org,
                 {"role": request.role_code, "reason": reason, **(details or {})})
    notices.withdrawn(request, stage, reason)
    return True


def lock(request: AccessRequest) -> AccessRequest:
    """Take the request's row lock (PostgreSQL) and reload it, so concurrent deciders queue up and
    each sees what the one before did."""
    db.session.execute(db.select(AccessRequest).where(AccessRequest.id == request.id)
                       .with_for_update().execution_options(populate_existing=True)).scalar_one()
    for stage in request.stages:
        db.session.refresh(stage)
    return request
