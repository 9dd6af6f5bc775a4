"""Grants: create, and every change of status (suspend, restore, revoke, expire), each audited.

Nothing is deleted. Who may change a grant is the caller's rule (workflows: coordinators in
scope, the holder giving theirs up, reviews, the lifecycle jobs); this module keeps the grant's
own rules: the role exists and allows the org's level, one active grant per user/role/org, and
the legal moves between statuses.
"""
from __future__ import annotations

import datetime as _dt

import audit
from edlink import clock
from edlink.errors import Conflict, Invalid
from edlink.extensions import db
from edlink.models import Org, User
from roles.catalog import load
from roles.models import GRANT_SOURCES, Grant

LEVEL_OF_KIND = {"state": "state", "lea": "lea", "school": "site", "nonpublic": "site",
                 "early_childhood": "site"}
# status -> the statuses it may move to (revoked and expired are final)
MOVES = {"active": ("suspended", "revoked", "expired"), "suspended": ("active", "revoked", "expired"),
         "revoked": (), "expired": ()}
ACTION = {"suspended": "grant.suspended", "active": "grant.restored", "revoked": "grant.revoked",
          "expired": "grant.expired"}


def level_of(org: Org) -> str:
    return LEVEL_OF_KIND[org.kind]


def create_grant(user: User, role_code: str, org: Org, *, source: str, granted_by: User | None,
                 actor=None, ends_at: _dt.datetime | None = None,
                 starts_at: _dt.datetime | None = None, details: dict | None = None) -> Grant:
    """Grant ``role_code`` at ``org`` and record ``grant.created``.

    ``starts_at`` defaults to now; an earlier start (a grant carried over from TAS keeps the day
    TAS granted it) is recorded in the event too.
    """
    role = load().role(role_code)
    if source not in GRANT_SOURCES:
        raise Invalid("bad_source", f"Unknown grant source {source!r}.")
    if level_of(org) not in role.scope:
        raise Invalid("scope_not_allowed",
                      f"{role.name} is granted at {' or '.join(role.scope)} level, not at a {org.kind}.")
    now = clock.now()
    starts_at = starts_at or now
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid("bad_end_date", "A grant must end after it starts.")
    existing = db.session.execute(db.select(Grant).where(
        Grant.user_id == user.id, Grant.role_code == role_code, Grant.org_id == org.id,
        Grant.status.in_(("active", "suspended")))).scalars().first()
    if existing is not None:
        raise Conflict("already_granted", f"{user.username} already holds {role.name} at {org.code}"
                                          f"{' (suspended)' if existing.status == 'suspended' else ''}.")
    grant = Grant(user_id=user.id, role_code=role_code, org_id=org.id, status="active",
                  starts_at=starts_at, ends_at=ends_at, source=source, created_at=now,
                  granted_by_id=granted_by.id if granted_by else None)
    db.session.add(grant)
    db.session.flush()
    from roles.provisioning import enqueue
    enqueue(grant, "created")
    audit.record("grant.created", actor if actor is not None else granted_by, grant, org,
                 {"user": user.username, "role": role_code, "source": source,
                  "starts_at": starts_at, "ends_at": ends_at, **(details or {})})
    return grant


def change_status(grant: Grant, status: str, *, actor, reason: str, details: dict | None = None) -> Grant:
    """Move a grant to ``status`` (suspended, active again, revoked, expired) with its event.

    ``actor`` is a User or a label such as ``"system:job"``; ``reason`` is required and kept on
    the grant. A move the life cycle does not allow answers 409 ``grant_<current status>``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", "Say why (the reason is kept with the grant and in the audit trail).",
                      fields={"reason": ["A reason is required."]})
    if status not in MOVES.get(grant.status, ()):
        raise Conflict(f"grant_{grant.status}",
                       f"This grant is {grant.status}; it cannot become {status}.")
    now = clock.now()
    before = grant.status
    actor_user = actor if isinstance(actor, User) else None
    grant.status = status
    grant.status_changed_at = now
    grant.status_changed_by_id = actor_user.id if actor_user else None
    grant.status_reason = reason
    if status == "revoked":
        grant.revoked_at, grant.revoked_reason = now, reason
        grant.revoked_by_id = actor_user.id if actor_user else None
    db.session.flush()
    from roles.provisioning import enqueue
    enqueue(grant, status)
    audit.record(ACTION[status], actor, grant, grant.org,
                 {"user": grant.user.username, "role": grant.role_code, "from": before,
                  "reason": reason, **(details or {})})
    return grant


def revoke(grant: Grant, *, actor, reason: str, details: dict | None = None) -> Grant:
    return change_status(grant, "revoked", actor=actor, reason=reason, details=details)


def suspend(grant: Grant, *, actor, reason: str) -> Grant:
    return change_status(grant, "suspended", actor=actor, reason=reason)


def restore(grant: Grant, *, actor, reason: str) -> Grant:
    return change_status(grant, "active", actor=actor, reason=reason)


def lock(grant_id: int) -> Grant | None:
    """The grant, locked for the rest of the transaction (PostgreSQL; SQLite has one writer)."""
    return db.session.execute(db.select(Grant).where(Grant.id == grant_id)
                              .with_for_update()).scalar_one_or_none()


def expire_due(now: _dt.datetime | None = None) -> list[Grant]:
    """Mark every active or suspended grant whose end has passed as expired (idempotent)."""
    now = now or clock.now()
    due = db.session.execute(db.select(Grant).where(
        Grant.status.in_(("active", "suspended")), Grant.ends_at.is_not(None), Grant.ends_at <= now)
        .order_by(Grant.id).with_for_update(skip_locked=True)).scalars().all()
    for grant in due:
        change_status(grant, "expired", actor="system:grants.expire",
                      reason=f"ended {grant.ends_at:%Y-%m-%d %H:%M} UTC")
    return list(due)


def bootstrap_admin(user: User, state: Org) -> Grant:
    """Make ``user`` a state administrator (the first one comes from the command line)."""
    return create_grant(user, "edlink.state_admin", state, source="bootstrap", granted_by=None,
                        actor="system:cli")
