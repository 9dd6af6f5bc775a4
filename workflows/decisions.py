"""Deciding a request's open stage: approve (optional comment) or deny (reason required).

Nobody decides their own request; nobody approves two stages of one request; only a current
approver of the open stage, their delegate, or (once the stage is escalated) a state
administrator may decide. Decisions take the request's row lock first, so of many simultaneous
decisions exactly one wins and the others see it as already decided (409). The final approval
re-runs the submission checks and creates the grant in the same transaction.
"""
from __future__ import annotations

import datetime as _dt

import audit
from edlink import clock
from edlink.calendar import calendar
from edlink.extensions import db
from edlink.models import User
from edlink.orgs import state_org
from roles.catalog import load
from roles.grants import create_grant
from workflows import notices, routing
from workflows.models import AccessRequest, Delegation, RequestStage
from workflows.requests import REFUSALS, RequestRefused, check_eligible, lock, refuse, stage_days

REFUSALS.update({
    "self_approval": (403, "You cannot decide your own request."),
    "second_stage": (403, "You already approved an earlier stage of this request; another person must "
                          "decide this one."),
    "not_routed_to_you": (403, "This request is not waiting on you."),
    "already_decided": (409, "This request has already been {status}; nothing was changed."),
    "reason_required": (422, "Give the reason for the denial; the requester will see it."),
})


def delegations_to(user: User, day: _dt.date) -> list[Delegation]:
    """Delegations naming ``user`` as delegate that cover ``day``."""
    rows = db.session.execute(db.select(Delegation).where(
        Delegation.delegate_id == user.id, Delegation.ended_at.is_(None),
        Delegation.starts_on <= day, Delegation.ends_on >= day)).scalars().all()
    return list(rows)


def may_decide(user: User, stage: RequestStage) -> tuple[bool, User | None]:
    """(may decide, on whose behalf): an approver of the stage, a delegate of one, or a state
    administrator once the stage is escalated."""
    approvers = {a.user_id: a.user for a in stage.approvers}
    if user.id in approvers:
        return True, None
    today = calendar().local_day(clock.now())
    for delegation in delegations_to(user, today):
        if delegation.approver_id in approvers:
            return True, approvers[delegation.approver_id]
    if stage.escalated_at is not None and any(u.id == user.id for u in routing.holders(routing.STATE_ADMIN,
                                                                                        state_org())):
        return True, None
    return False, None


def _check_decider(user: User, request: AccessRequest) -> tuple[RequestStage, User | None]:
    if request.status != "pending":
        raise refuse("already_decided", status=request.status)
    stage = request.open_stage()
    if stage is None:  # pending with no open stage cannot happen; treat as decided elsewhere
        raise refuse("already_decided", status="decided")
    if user.id == request.requester_id:
        raise refuse("self_approval")
    allowed, on_behalf = may_decide(user, stage)
    if not allowed:
        raise refuse("not_routed_to_you")
    people = {user.id} | ({on_behalf.id} if on_behalf else set())
    for earlier in request.stages:
        if earlier.position < stage.position and ({earlier.decided_by_id, earlier.on_behalf_of_id} & people):
            raise refuse("second_stage")
    return stage, on_behalf


def _close(stage: RequestStage, status: str, user: User, on_behalf: User | None, comment: str | None) -> None:
    now = clock.now()
    stage.status, stage.decided_at, stage.decided_by_id = status, now, user.id
    stage.on_behalf_of_id = on_behalf.id if on_behalf else None
    stage.comment = comment
    stage.request.last_activity_at = now


def _who(user: User, on_behalf: User | None) -> dict:
    out = {"decided_by": user.username}
    if on_behalf is not None:
        out["on_behalf_of"] = on_behalf.username
    return out


def approve(user: User, request: AccessRequest, comment: str | None = None) -> AccessRequest:
    lock(request)
    stage, on_behalf = _check_decider(user, request)
    comment = (comment or "").strip() or None
    nxt = next((s for s in request.stages if s.position == stage.position + 1), None)
    role = load().role(request.role_code)
    if nxt is None:  # the final stage: the submission checks again, then the grant
        check_eligible(request.requester, role, request.org, at_approval=True, request=request)
    _close(stage, "approved", user, on_behalf, comment)
    audit.record("request.stage_approved", user, request, request.org,
                 {"stage": stage.position, "approver_role": stage.approver_role, "comment": comment,
                  **_who(user, on_behalf)})
    if nxt is not None:
        approvers = routing.open_stage(request, nxt, stage_days())
        notices.stage_approved(request, stage, nxt, approvers)
        return request
    grant = create_grant(request.requester, role.code, request.org, source="request", granted_by=user,
                         ends_at=request.ends_at)
    request.status, request.decided_at, request.grant_id = "approved", clock.now(), grant.id
    audit.record("request.approved", user, request, request.org,
                 {"role": role.code, "grant": grant.id, **_who(user, on_behalf)})
    notices.approved(request, user)
    return request


def deny(user: User, request: AccessRequest, reason: str) -> AccessRequest:
    reason = (reason or "").strip()
    if not reason:
        raise refuse("reason_required", fields={"reason": ["required"]})
    lock(request)
    stage, on_behalf = _check_decider(user, request)
    _close(stage, "denied", user, on_behalf, reason)
    request.status, request.decided_at, request.outcome_reason = "denied", clock.now(), reason
    audit.record("request.denied", user, request, request.org,
                 {"stage": stage.position, "reason": reason, **_who(user, on_behalf)})
    notices.denied(request, user, reason)
    return request


__all__ = ["approve", "deny", "may_decide", "RequestRefused"]
