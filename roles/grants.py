"""Creating grants (the request, review and lifecycle issues add the rest of their life)."""
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


def create_grant(user: User, role_code: str, org: Org, *, source: str, granted_by: User | None,
                 actor=None, ends_at: _dt.datetime | None = None,
                 starts_at: _dt.datetime | None = None) -> Grant:
    """Grant ``role_code`` at ``org`` and record ``grant.created``.

    ``starts_at`` defaults to now; an earlier start (a grant carried over from TAS keeps the day
    TAS granted it) is recorded in the event too.
    """
    role = load().role(role_code)
    if source not in GRANT_SOURCES:
        raise Invalid("bad_source", f"Unknown grant source {source!r}.")
    if LEVEL_OF_KIND[org.kind] not in role.scope:
        raise Invalid("scope_not_allowed",
                      f"{role.name} is granted at {' or '.join(role.scope)} level, not at a {org.kind}.")
    existing = db.session.execute(db.select(Grant).where(
        Grant.user_id == user.id, Grant.role_code == role_code, Grant.org_id == org.id,
        Grant.status == "active")).scalars().first()
    if existing is not None:
        raise Conflict("already_granted", f"{user.username} already holds {role.name} at {org.code}.")
    grant = Grant(user_id=user.id, role_code=role_code, org_id=org.id, status="active",
                  starts_at=starts_at or clock.now(), ends_at=ends_at, source=source,
                  granted_by_id=granted_by.id if granted_by else None)
    db.session.add(grant)
    db.session.flush()
    details = {"user": user.username, "role": role_code, "source": source, "ends_at": ends_at}
    if starts_at is not None:
        details["starts_at"] = starts_at
    audit.record("grant.created", actor if actor is not None else granted_by, grant, org, details)
    return grant


def bootstrap_admin(user: User, state: Org) -> Grant:
    """Make ``user`` a state administrator (the first one comes from the command line)."""
    return create_grant(user, "edlink.state_admin", state, source="bootstrap", granted_by=None,
                        actor="system:cli")
