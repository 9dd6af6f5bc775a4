"""Finding requests: mine, my inbox (waiting on me, my delegators, or escalated to me), all in scope."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, or_

from edlink import authz, clock
from edlink.calendar import calendar
from edlink.errors import Forbidden, Invalid, NotFound
from edlink.extensions import db
from edlink.models import Org, User
from edlink.orgs import state_org
from workflows import routing
from workflows.models import AccessRequest, Delegation, RequestStage, StageApprover

VIEWS = ("mine", "inbox", "all")
STATUSES = ("pending", "approved", "denied", "cancelled", "expired")


@dataclass
class RequestFilters:
    status: str | None = None
    role: str | None = None
    org: str | None = None
    overdue: bool = False

    @classmethod
    def parse(cls, args) -> RequestFilters:
        status = (args.get("status") or "").strip() or None
        if status is not None and status not in STATUSES:
            raise Invalid("bad_filter", f"status must be one of {', '.join(STATUSES)}.", fields={"status": ["unknown"]})
        return cls(status=status, role=(args.get("role") or "").strip() or None,
                   org=(args.get("org") or "").strip() or None,
                   overdue=(args.get("overdue") or "").lower() in ("1", "true", "yes", "on"))


def _is_state_admin(user: User) -> bool:
    return any(u.id == user.id for u in routing.holders(routing.STATE_ADMIN, state_org()))


def inbox_clause(user: User):
    """Open stages this user may decide now: as an approver, as a delegate, or (state
    administrators) once escalated."""
    today = calendar().local_day(clock.now())
    delegators = db.select(Delegation.approver_id).where(
        Delegation.delegate_id == user.id, Delegation.ended_at.is_(None),
        Delegation.starts_on <= today, Delegation.ends_on >= today)
    mine = exists().where(StageApprover.stage_id == RequestStage.id,
                          or_(StageApprover.user_id == user.id, StageApprover.user_id.in_(delegators)))
    ways = [mine]
    if _is_state_admin(user):
        ways.append(RequestStage.escalated_at.is_not(None))
    return and_(RequestStage.status == "open", AccessRequest.requester_id != user.id, or_(*ways))


def _scope_ids(user: User) -> set[int]:
    return (authz.orgs_with("edlink.request.approve", user) | authz.orgs_with("edlink.audit.read", user)
            | authz.orgs_with("edlink.grant.revoke", user))


def find(user: User, view: str, filters: RequestFilters, page: int = 1, per_page: int = 25
         ) -> tuple[list[AccessRequest], int]:
    """One page of requests in ``view`` and how many there are. The inbox runs oldest first (by the
    open stage's due date); the other views newest first."""
    if view not in VIEWS:
        raise Invalid("bad_view", "view must be mine, inbox or all.", fields={"view": ["unknown view"]})
    query = db.select(AccessRequest)
    if view == "mine":
        query = query.where(AccessRequest.requester_id == user.id)
        order = (AccessRequest.submitted_at.desc(), AccessRequest.id.desc())
    elif view == "inbox":
        query = query.join(RequestStage, RequestStage.request_id == AccessRequest.id).where(
            AccessRequest.status == "pending", inbox_clause(user))
        order = (RequestStage.due_at, AccessRequest.id)
    else:
        ids = _scope_ids(user)
        if not ids:
            raise Forbidden("forbidden", "You do not coordinate or audit any school system's requests.")
        query = query.where(AccessRequest.org_id.in_(sorted(ids)))
        order = (AccessRequest.submitted_at.desc(), AccessRequest.id.desc())
    if filters.status and view != "inbox":
        query = query.where(AccessRequest.status == filters.status)
    if filters.role:
        query = query.where(AccessRequest.role_code == filters.role)
    if filters.org:
        query = query.where(AccessRequest.org_id.in_(db.select(Org.id).where(Org.code == filters.org)))
    if filters.overdue and view == "inbox":
        query = query.where(RequestStage.due_at <= clock.now())
    total = db.session.execute(query.with_only_columns(db.func.count(AccessRequest.id)).order_by(None)).scalar_one()
    rows = db.session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return list(rows), total


def get_visible(user: User, request_id: int) -> AccessRequest:
    """A request its requester, an approver of any of its stages (or their delegate), or someone
    coordinating or auditing its org may see; 404 otherwise."""
    request = db.session.get(AccessRequest, request_id)
    if request is None or not _may_see(user, request):
        raise NotFound("unknown_request", f"No request {request_id} is visible to you.")
    return request


def _may_see(user: User, request: AccessRequest) -> bool:
    if request.requester_id == user.id:
        return True
    if any(a.user_id == user.id for s in request.stages for a in s.approvers):
        return True
    if any(user.id in (s.decided_by_id, s.on_behalf_of_id) for s in request.stages):
        return True
    inbox = db.session.execute(db.select(RequestStage.id).join(AccessRequest).where(
        AccessRequest.id == request.id, inbox_clause(user))).first()
    if inbox is not None:
        return True
    return request.org_id in _scope_ids(user)
