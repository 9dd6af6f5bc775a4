"""What pages and the API show of a request (one shape for both)."""
from __future__ import annotations

from typing import Any

from roles.catalog import load
from workflows import routing
from workflows.models import AccessRequest, RequestStage


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


def stage_view(stage: RequestStage) -> dict[str, Any]:
    return {"position": stage.position, "approver_role": stage.approver_role,
            "label": routing.stage_label(stage), "status": stage.status, "at_state": stage.at_state,
            "opened_at": _time(stage.opened_at), "due_at": _time(stage.due_at),
            "escalated_at": _time(stage.escalated_at), "decided_at": _time(stage.decided_at),
            "decided_by": stage.decided_by.username if stage.decided_by else None,
            "on_behalf_of": stage.on_behalf_of.username if stage.on_behalf_of else None,
            "comment": stage.comment, "approvers": [a.user.username for a in stage.approvers]}


def request_view(request: AccessRequest) -> dict[str, Any]:
    role = load().role(request.role_code)
    return {"id": request.id, "requester": request.requester.username,
            "role": {"code": role.code, "name": role.name}, "org": {"code": request.org.code,
                                                                     "name": request.org.name},
            "status": request.status, "justification": request.justification, "ends_at": _time(request.ends_at),
            "submitted_at": _time(request.submitted_at), "decided_at": _time(request.decided_at),
            "reason": request.outcome_reason, "grant_id": request.grant_id,
            "path": " → ".join(routing.stage_label(s) for s in request.stages),
            "stages": [stage_view(s) for s in request.stages]}
