"""Suspending and restoring grants, and why a grant is suspended.

A suspension carries its cause in the ``grant.suspended`` audit event (``details["cause"]``), so
whoever lifts it later knows which suspensions are theirs to lift: the HR lifecycle restores only
what a leave suspended, signing the statement only what its lapse suspended; a suspension for
inactivity or by a coordinator stays until a coordinator restores it. Every status change goes
through ``roles.grants.change_status``, which records that event, so the last ``grant.suspended``
event of a suspended grant is always the one that suspended it.

Coordinators (``edlink.grant.revoke`` at the grant's org) may suspend and restore grants in their
scope, with a reason; the holder is told. The people told about the lifecycle's changes to
someone's access are that person's security coordinators (the state administrators when the
school system has none).
"""
from __future__ import annotations

from collections.abc import Iterable

import notifications
from audit.models import AuditEvent
from edlink.errors import Conflict, Forbidden, NotFound
from edlink.extensions import db
from edlink.models import Org, StaffRecord, User
from edlink.orgs import state_org
from roles import gate
from roles.catalog import load
from roles.grants import change_status, lock
from roles.models import Grant

# why a grant is suspended (the "cause" of its grant.suspended event)
HR_STATUS = "hr_status"  # the staff record went on leave (or back to pending HR)
INACTIVITY = "inactivity"  # no sign-in for EDLINK_INACTIVITY_DAYS
STATEMENT = "statement"  # the confidentiality statement lapsed
COORDINATOR = "coordinator"  # a coordinator suspended it by hand
CAUSES = (HR_STATUS, INACTIVITY, STATEMENT, COORDINATOR)

REVOKE = "edlink.grant.revoke"
COORDINATOR_ROLE = "edlink.security_coordinator"
STATE_ADMIN = "edlink.state_admin"


def causes(grants: Iterable[Grant]) -> dict[int, str | None]:
    """The cause of each suspended grant's current suspension (None when it was not recorded)."""
    ids = [g.id for g in grants if g.status == "suspended"]
    found: dict[int, str | None] = dict.fromkeys(ids)
    if not ids:
        return found
    events = db.session.execute(db.select(AuditEvent.target_id, AuditEvent.details).where(
        AuditEvent.action == "grant.suspended", AuditEvent.target_type == "grant",
        AuditEvent.target_id.in_([str(i) for i in ids])).order_by(AuditEvent.seq)).all()
    for target_id, details in events:  # in order: the last one wins
        found[int(target_id)] = (details or {}).get("cause")
    return found


def suspended_for(user: User, cause: str) -> list[Grant]:
    """The user's grants suspended for ``cause``."""
    grants = db.session.execute(db.select(Grant).where(Grant.user_id == user.id, Grant.status == "suspended")
                                .order_by(Grant.id).with_for_update()).scalars().all()
    why = causes(grants)
    return [g for g in grants if why.get(g.id) == cause]


def suspend(grant: Grant, cause: str, *, actor, reason: str, details: dict | None = None) -> Grant:
    """Suspend ``grant`` for ``cause`` (one of CAUSES), recorded with the event."""
    assert cause in CAUSES, cause
    return change_status(grant, "suspended", actor=actor, reason=reason, details={"cause": cause, **(details or {})})


def restore(grant: Grant, *, actor, reason: str, details: dict | None = None) -> Grant:
    return change_status(grant, "active", actor=actor, reason=reason, details=details)


def _who(actor) -> str | None:
    return (actor.display_name or actor.username) if isinstance(actor, User) else None


def tell_holder(grant: Grant, event: str, reason: str, actor=None) -> None:
    """``grant.suspended`` / ``grant.restored`` / ``grant.revoked`` to the grant's holder."""
    notifications.notify([grant.user], event, {"role": load().name_of(grant.role_code), "org": grant.org.name,
                                               "reason": reason, "decided_by": _who(actor)},
                         link=f"/grants/{grant.id}")


def coordinators(leas: Iterable[Org | None], *, besides: User | None = None) -> list[User]:
    """The security coordinators of these school systems; the state administrators when there
    are none (a state employee, or a school system without a coordinator)."""
    from workflows.routing import holders
    people: dict[int, User] = {}
    for lea in {o.id: o for o in leas if o is not None and o.kind == "lea"}.values():
        people.update((u.id, u) for u in holders(COORDINATOR_ROLE, lea))
    people.pop(besides.id if besides else None, None)
    if not people:
        people.update((u.id, u) for u in holders(STATE_ADMIN, state_org()))
        people.pop(besides.id if besides else None, None)
    return sorted(people.values(), key=lambda u: u.username)


def tell_coordinators(person: User, record: StaffRecord | None, leas: Iterable[Org | None], change: str,
                      grants: Iterable[Grant] = (), extra: str = "") -> None:
    """One ``access.changed`` notice per coordinator: whose access changed, how, which grants."""
    catalog = load()
    items = "; ".join(f"{catalog.name_of(g.role_code)} at {g.org.code}" for g in grants)
    if extra:
        items = f"{items}; {extra}" if items else extra
    name = record.full_name if record is not None else (person.display_name or person.username)
    people = coordinators([*leas, record.lea if record is not None else None], besides=person)
    if people:
        notifications.notify(people, "access.changed",
                             {"person": f"{name} ({person.username})", "change": change,
                              "staff_id": record.staff_id if record is not None else None, "items": items},
                             link=f"/access/who?user={person.username}")


# --- coordinators suspending and restoring by hand ------------------------------------------

def _for_coordinator(actor: User, grant_id: int) -> Grant:
    grant = lock(grant_id)
    if grant is None or not (gate.can(actor, REVOKE, grant.org) or gate.can(actor, "edlink.audit.read", grant.org)):
        raise NotFound("unknown_grant", f"No grant {grant_id} is visible to you.")
    gate.require(actor, REVOKE, grant.org)  # auditors see it but may not change it: 403
    if grant.user_id == actor.id:
        raise Forbidden("own_grant", "Another coordinator suspends or restores your own grants.")
    return grant


def coordinator_suspend(actor: User, grant_id: int, reason: str | None) -> Grant:
    """A coordinator suspends a grant in their scope (reason required; the holder is told)."""
    from workflows.revocation import _reason
    grant = _for_coordinator(actor, grant_id)
    reason = _reason(reason)
    suspend(grant, COORDINATOR, actor=actor, reason=reason)
    tell_holder(grant, "grant.suspended", reason, actor)
    return grant


def coordinator_restore(actor: User, grant_id: int, reason: str | None) -> Grant:
    """A coordinator restores a suspended grant in their scope, whatever suspended it — except a
    role that needs the confidentiality statement while the holder's has lapsed (signing it
    is what restores that)."""
    from workflows.attestation_jobs import statement_lapsed
    from workflows.revocation import _reason
    grant = _for_coordinator(actor, grant_id)
    reason = _reason(reason)
    if grant.status != "suspended":
        raise Conflict(f"grant_{grant.status}", f"This grant is {grant.status}; only a suspended grant is restored.")
    role = load().roles.get(grant.role_code)
    if role is not None and role.requires_statement and statement_lapsed(grant.user):
        raise Conflict("statement_lapsed", f"{role.name} needs a signed confidentiality statement and "
                       f"{grant.user.username}'s has lapsed. Ask them to sign it; then restore the grant.")
    cause = causes([grant]).get(grant.id)
    restore(grant, actor=actor, reason=reason, details={"suspended_for": cause})
    tell_holder(grant, "grant.restored", reason, actor)
    return grant
