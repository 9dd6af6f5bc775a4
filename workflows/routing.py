"""Routing: which stages a request walks and who decides each one.

A role's approval stages come from the catalog, in order. A stage is decided by the holders of its
approver role at the request's school system (the LEA of the requested org), or at the state for a
state-level approver role or a state-level request. Approvers are resolved when the stage opens,
so a coordinator appointed today sees today's requests. When nobody holds the approver role there
(or only people who may not decide this request: the requester, or someone who decided an earlier
stage), the stage goes to the state administrators and the request says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from edlink import authz, clock
from edlink.calendar import calendar
from edlink.extensions import db
from edlink.models import Org, User
from edlink.orgs import state_org
from roles.catalog import Role, load
from roles.models import Grant
from workflows.models import AccessRequest, RequestStage, StageApprover

STATE_ADMIN = "edlink.state_admin"
APPROVE = "edlink.request.approve"


def request_lea(org: Org) -> Org | None:
    """The school system whose approvers decide a request at ``org`` (None: the state)."""
    return None if org.kind == "state" else org.lea


def stage_roles(role: Role, org: Org) -> tuple[str, ...]:
    """The approver roles, in order, for ``role`` requested at ``org`` (a role may have its own
    chain for the LEA level, e.g. an LEA auditor is approved by the coordinator)."""
    lea_chain = getattr(role, "approval_lea", None)
    if lea_chain and org.kind != "state":
        return tuple(lea_chain)
    return tuple(role.approval)


def _approver_org(approver_role: str, lea: Org | None) -> Org | None:
    scope = load().role(approver_role).scope
    if lea is not None and "lea" in scope:
        return lea
    return state_org()


def holders(role_code: str, org: Org | None) -> list[User]:
    """People who hold ``role_code`` at exactly ``org`` now, and whom the gate lets approve there."""
    if org is None:
        return []
    now = clock.now()
    grants = db.session.execute(db.select(Grant).where(
        Grant.role_code == role_code, Grant.org_id == org.id, Grant.status == "active")).scalars().all()
    users = {g.user_id: g.user for g in grants if g.in_force(now)}
    return sorted((u for u in users.values() if authz.can(APPROVE, org, u)), key=lambda u: u.username)


@dataclass(frozen=True)
class PlannedStage:
    position: int
    approver_role: str
    approver_role_name: str
    org: Org | None
    at_state: bool
    approvers: tuple[User, ...]

    def label(self) -> str:
        return _label(self.approver_role_name, self.org, self.at_state)


def _label(role_name: str, org: Org | None, at_state: bool) -> str:
    where = org.name if org is not None else "the state"
    if at_state:
        return f"State Administrator (no {role_name} at {where})"
    return f"{role_name}, {where}"


def plan_stage(position: int, approver_role: str, lea: Org | None, requester: User,
               excluded: set[int] = frozenset()) -> PlannedStage:
    """Who decides this stage if it opened now."""
    org = _approver_org(approver_role, lea)
    name = load().role(approver_role).name
    people = [u for u in holders(approver_role, org) if u.id != requester.id and u.id not in excluded]
    if people or approver_role == STATE_ADMIN:
        return PlannedStage(position, approver_role, name, org, False, tuple(people))
    admins = [u for u in holders(STATE_ADMIN, state_org()) if u.id != requester.id and u.id not in excluded]
    return PlannedStage(position, approver_role, name, org, True, tuple(admins))


def plan(role: Role, org: Org, requester: User) -> list[PlannedStage]:
    """The whole path a request would take if submitted now (shown before submission)."""
    lea = request_lea(org)
    return [plan_stage(i, code, lea, requester) for i, code in enumerate(stage_roles(role, org), 1)]


def path_label(stages: list[PlannedStage]) -> str:
    return " → ".join(s.label() for s in stages)


def create_stages(request: AccessRequest, role: Role) -> list[RequestStage]:
    stages = []
    for i, code in enumerate(stage_roles(role, request.org), 1):
        org = _approver_org(code, request.lea)
        stages.append(RequestStage(request=request, position=i, approver_role=code, status="waiting",
                                   approver_org_id=org.id if org else None, approver_org=org))
    db.session.add_all(stages)
    db.session.flush()
    return stages


def open_stage(request: AccessRequest, stage: RequestStage, business_days: int) -> list[User]:
    """Open ``stage`` now: resolve its approvers (never the requester, nobody who decided an
    earlier stage of this request), set its due date and reminder point; returns the approvers."""
    earlier = {s.decided_by_id for s in request.stages if s.decided_by_id is not None}
    earlier |= {s.on_behalf_of_id for s in request.stages if s.on_behalf_of_id is not None}
    planned = plan_stage(stage.position, stage.approver_role, request.lea, request.requester, earlier)
    now = clock.now()
    cal = calendar()
    stage.status = "open"
    stage.opened_at = now
    stage.approver_org_id = planned.org.id if planned.org is not None else None
    stage.at_state = planned.at_state
    stage.due_at = cal.deadline(now, business_days)
    stage.remind_at = cal.halfway(now, business_days)
    db.session.add_all(StageApprover(stage=stage, user_id=u.id) for u in planned.approvers)
    db.session.flush()
    return list(planned.approvers)


def stage_label(stage: RequestStage) -> str:
    return _label(load().name_of(stage.approver_role), stage.approver_org, stage.at_state)
