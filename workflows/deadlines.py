"""The request deadlines job (``requests.deadlines``): reminders, escalation and expiry.

Idempotent, and driven by ``now`` (edlink.clock), so running it twice, or late, does each thing
once: a stage's reminder is sent when half its business days have run; an overdue stage escalates
to the state administrators (who may then decide it) and its approvers are told; a request nobody
has touched for ``REQUEST_EXPIRY_BUSINESS_DAYS`` business days expires and the requester is told.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app

import audit
from edlink import clock
from edlink.calendar import calendar
from edlink.extensions import db
from edlink.orgs import state_org
from workflows import notices, routing
from workflows.models import AccessRequest, RequestStage


def _open_stages(column, now: _dt.datetime, done_column) -> list[RequestStage]:
    return list(db.session.execute(
        db.select(RequestStage).join(AccessRequest, AccessRequest.id == RequestStage.request_id)
        .where(RequestStage.status == "open", AccessRequest.status == "pending", column <= now,
               done_column.is_(None))
        .order_by(RequestStage.id).with_for_update(of=RequestStage, skip_locked=True)).scalars())


def _approvers(stage: RequestStage) -> list:
    return [a.user for a in stage.approvers]


def send_reminders(now: _dt.datetime) -> int:
    stages = _open_stages(RequestStage.remind_at, now, RequestStage.reminded_at)
    for stage in stages:
        if stage.due_at is not None and stage.due_at <= now:
            stage.reminded_at = now  # overdue already: escalation says it louder
            continue
        stage.reminded_at = now
        notices.reminder(stage.request, stage, _approvers(stage))
    return len(stages)


def escalate(now: _dt.datetime) -> int:
    stages = _open_stages(RequestStage.due_at, now, RequestStage.escalated_at)
    for stage in stages:
        request = stage.request
        stage.escalated_at = now
        admins = [u for u in routing.holders(routing.STATE_ADMIN, state_org()) if u.id != request.requester_id]
        audit.record("request.escalated", "system:jobs", request, request.org,
                     {"stage": stage.position, "due_at": stage.due_at,
                      "approvers": [u.username for u in _approvers(stage)], "to": [u.username for u in admins]})
        notices.escalated(request, stage, admins, _approvers(stage))
    return len(stages)


def expire(now: _dt.datetime) -> int:
    days = int(current_app.config["REQUEST_EXPIRY_BUSINESS_DAYS"])
    cal = calendar()
    candidates = db.session.execute(
        db.select(AccessRequest).where(AccessRequest.status == "pending",
                                       # n business days are at least n calendar days
                                       AccessRequest.last_activity_at <= now - _dt.timedelta(days=days))
        .order_by(AccessRequest.id)
        .with_for_update(skip_locked=True)).scalars().all()
    expired = 0
    for request in candidates:
        if cal.deadline(request.last_activity_at, days) > now:
            continue
        request.status, request.decided_at = "expired", now
        request.outcome_reason = f"No decision within {days} business days."
        stage = request.open_stage()
        if stage is not None:
            stage.status = "closed"
        audit.record("request.expired", "system:jobs", request, request.org,
                     {"role": request.role_code, "last_activity_at": request.last_activity_at, "business_days": days})
        notices.expired(request)
        expired += 1
    return expired


def run(now: _dt.datetime | None = None) -> dict[str, int]:
    """The ``requests.deadlines`` job: one pass at ``now`` (default: edlink.clock.now())."""
    now = now or clock.now()
    return {"expired": expire(now), "escalated": escalate(now), "reminded": send_reminders(now)}
