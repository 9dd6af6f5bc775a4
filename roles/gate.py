"""The gate: may this user do this here? One answer for pages, the API and SER.

A grant is in force when it is active and inside its start/end window; a role's permissions
include those of the roles it implies; a grant at an org covers what edlink.orgs says it covers.
"""
from __future__ import annotations

from flask_login import current_user

from edlink import clock
from edlink.errors import Forbidden
from edlink.extensions import db
from edlink.models import Org, User
from edlink.orgs import covered_org_ids, covers
from roles.catalog import load
from roles.models import Grant


def _user(user: User | None) -> User | None:
    if user is not None:
        return user
    return current_user if getattr(current_user, "is_authenticated", False) else None


def grants_in_force(user: User) -> list[Grant]:
    now = clock.now()
    grants = db.session.execute(
        db.select(Grant).where(Grant.user_id == user.id, Grant.status == "active")
    ).scalars()
    return [g for g in grants if g.in_force(now)]


def _grants_for(user: User, permission: str) -> list[Grant]:
    roles = load().roles_with(permission)
    return [g for g in grants_in_force(user) if g.role_code in roles]


def can(permission: str, org: Org | None = None, user: User | None = None) -> bool:
    """True when the user holds ``permission`` at ``org`` (at any org when ``org`` is None)."""
    user = _user(user)
    if user is None or user.disabled:
        return False
    grants = _grants_for(user, permission)
    if org is None:
        return bool(grants)
    return any(covers(g.org, org) for g in grants)


def require(permission: str, org: Org | None = None, user: User | None = None) -> None:
    if not can(permission, org, user):
        where = f" at {org.code}" if org is not None else ""
        raise Forbidden("forbidden", f"You do not have the permission {permission}{where}.")


def orgs_with(permission: str, user: User | None = None) -> set[int]:
    """Ids of every org where the user holds ``permission`` (for filtering queries)."""
    user = _user(user)
    if user is None or user.disabled:
        return set()
    ids: set[int] = set()
    for grant in _grants_for(user, permission):
        ids |= covered_org_ids(grant.org)
    return ids


def role_codes(user: User | None = None) -> set[str]:
    user = _user(user)
    return {g.role_code for g in grants_in_force(user)} if user else set()
