"""Who is told what when a request moves (messages via the notifications package).

One function per moment, so the request services read as the rules and this module as the
mailing list. Every notice is written in the caller's transaction (the notifications outbox).
"""
from __future__ import annotations

from collections.abc import Iterable

import notifications
from edlink.models import User
from workflows import routing
from workflows.models import AccessRequest, RequestStage


def _name(user: User | None) -> str | None:
    return (user.display_name or user.username) if user is not None else None


def _context(request: AccessRequest, stage: RequestStage | None = None, **more) -> dict:
    from roles.catalog import load
    context = {"request_id": request.id, "role": load().name_of(request.role_code), "org": request.org.name,
               "requester": _name(request.requester), "justification": request.justification}
    if stage is not None:
        context["stage"] = f"{stage.position} ({routing.stage_label(stage)})"
    context.update(more)
    return context


def _send(users: Iterable[User | None], event: str, request: AccessRequest, context: dict,
          stage: RequestStage | None = None) -> None:
    people = [u for u in {u.id: u for u in users if u is not None}.values()]
    if people:
        notifications.notify(people, event, context, link=f"/requests/{request.id}",
                             due_at=stage.due_at if stage is not None else None)


def submitted(request: AccessRequest, stage: RequestStage, approvers: list[User]) -> None:
    _send([request.requester], "request.submitted", request, _context(request, stage))
    _send(approvers, "request.action_needed", request, _context(request, stage), stage)


def stage_approved(request: AccessRequest, decided: RequestStage, nxt: RequestStage, approvers: list[User]) -> None:
    _send([request.requester], "request.stage_approved", request,
          _context(request, nxt, decided_by=_name(decided.decided_by), comment=decided.comment))
    _send(approvers, "request.action_needed", request, _context(request, nxt), nxt)


def approved(request: AccessRequest, by: User) -> None:
    _send([request.requester], "request.approved", request, _context(request, decided_by=_name(by)))


def denied(request: AccessRequest, by: User, reason: str) -> None:
    _send([request.requester], "request.denied", request, _context(request, decided_by=_name(by), reason=reason))


def cancelled(request: AccessRequest, stage: RequestStage | None) -> None:
    if stage is not None:
        _send([a.user for a in stage.approvers], "request.cancelled", request, _context(request, stage))


def withdrawn(request: AccessRequest, stage: RequestStage | None, reason: str) -> None:
    approvers = [a.user for a in stage.approvers] if stage is not None else []
    _send([request.requester, *approvers], "request.cancelled", request, _context(request, stage, reason=reason))


def reminder(request: AccessRequest, stage: RequestStage, approvers: list[User]) -> None:
    _send(approvers, "request.reminder", request, _context(request, stage), stage)


def escalated(request: AccessRequest, stage: RequestStage, admins: list[User], approvers: list[User]) -> None:
    names = ", ".join(_name(u) for u in approvers) or None
    _send(admins, "request.escalated", request, _context(request, stage, escalated_from=names))
    _send(approvers, "request.overdue", request, _context(request, stage))


def expired(request: AccessRequest) -> None:
    _send([request.requester], "request.expired", request, _context(request))


def delegated(approver: User, delegate: User, starts_on, ends_on) -> None:
    notifications.notify([delegate], "delegation.created",
                         {"delegated_by": _name(approver), "starts_on": starts_on, "until": ends_on},
                         link="/requests/inbox")
