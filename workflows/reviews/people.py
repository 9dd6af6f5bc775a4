"""Who reviews, who may see, who is told.

Reviewers of a review are, while it runs, the school system's security coordinators and, for
eSER, its special-education supervisors too: people holding one of those roles at the LEA (in
force, so linked, HR-active and enabled) whom the gate lets ``edlink.review.decide`` there. They
are worked out when asked, so a coordinator appointed mid-review can take part. State
administrators may decide and, once a review is held at its deadline, close it.

Who may see a review: its reviewers, whoever may read the audit trail at the LEA (coordinators
and auditors in scope) and the state administrators.
"""
from __future__ import annotations

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.orgs import state_org
from roles import gate
from roles.cache import request_memo
from roles.models import Grant

REVIEW = "edlink.review.decide"
AUDIT = "edlink.audit.read"
COORDINATOR = "edlink.security_coordinator"
SUPERVISOR = "eser.sped_supervisor"
STATE_ADMIN = "edlink.state_admin"
REVIEWER_ROLES = {"eser": (COORDINATOR, SUPERVISOR)}


def reviewer_roles(application: str) -> tuple[str, ...]:
    return REVIEWER_ROLES.get(application, (COORDINATOR,))


def _holders(role_codes, org_id: int) -> list[User]:
    now = clock.now()
    grants = db.session.execute(db.select(Grant).where(
        Grant.role_code.in_(list(role_codes)), Grant.org_id == org_id, Grant.status == "active")).scalars().all()
    users = {g.user_id: g.user for g in grants if g.in_force(now)}
    return sorted(users.values(), key=lambda u: u.username)


def reviewers(lea: Org, application: str) -> list[User]:
    return [u for u in _holders(reviewer_roles(application), lea.id) if gate.can(u, REVIEW, lea)]


def state_admins() -> list[User]:
    state = state_org()
    return [u for u in _holders((STATE_ADMIN,), state.id) if gate.can(u, REVIEW, state)] if state else []


def _roles_in_force(user: User) -> frozenset[tuple[str, int]]:
    memo = request_memo()
    key = ("reviews.roles", user.id)
    if memo is not None and key in memo:
        return memo[key]
    held = frozenset((g.role_code, g.org_id) for g, in_force in gate.held_grants(user) if in_force)
    if memo is not None:
        memo[key] = held
    return held


def is_state_admin(user: User) -> bool:
    return any(role == STATE_ADMIN for role, _org in _roles_in_force(user)) and bool(gate.can(user, REVIEW, None))


def is_reviewer(user: User, lea_id: int, application: str) -> bool:
    roles = reviewer_roles(application)
    return (any(role in roles and org_id == lea_id for role, org_id in _roles_in_force(user))
            and bool(gate.can(user, REVIEW, lea_id)))


def reviewer_pairs(user: User) -> set[tuple[int, str | None]]:
    """(LEA id, application) pairs the user reviews; application None means every application."""
    out: set[tuple[int, str | None]] = set()
    for role, org_id in _roles_in_force(user):
        if role == COORDINATOR:
            out.add((org_id, None))
        elif role == SUPERVISOR:
            out.add((org_id, "eser"))
    return {(lea, app) for lea, app in out if gate.can(user, REVIEW, lea)}


def audit_scope(user: User) -> set[int]:
    return gate.orgs_with(user, AUDIT)


def may_see(user: User, lea_id: int, application: str) -> bool:
    return (is_state_admin(user) or is_reviewer(user, lea_id, application)
            or lea_id in audit_scope(user))


def may_start(user: User, lea: Org, application: str) -> bool:
    return is_state_admin(user) or is_reviewer(user, lea.id, application)
