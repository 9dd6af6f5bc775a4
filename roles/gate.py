"""The gate: may this user do this here? One answer for pages, the API, other applications and SER.

``can(user, permission, org) -> Decision(allowed, reason)``; ``require(...)`` raises 403 and
records ``authz.denied``; ``orgs_with(user, permission)`` gives the org ids for filtering
queries; ``requires(permission, org=...)`` guards a view. The permission-first forms that
DESIGN.md shows for SER (``gate.can(permission, org)``, ``gate.require(permission, org)``,
``gate.orgs_with(permission)``, acting for the signed-in user) are accepted too.

A user holds a permission at an org when they have an *active* grant, inside its start/end
window, of a role whose permissions (implications included) carry it, at an org that covers
the target (state: everything; LEA: itself, its schools and the sites it serves; site: itself)
— and only while their account is enabled, their username is linked to a staff record and that
record's HR status is active.

What is cached, and for how long:
- the user's grants: read in one query on the first check of a request and kept for that
  request only (cleared when this transaction writes a grant, link, staff record or user, and
  when a grant's start or end passes), so revocation, suspension and expiry are seen on the
  next check in every process;
- the catalog and the org tree: one copy per app, rebuilt when the ``gate`` epoch moves
  (roles.cache); the epoch comes back in the same query as the grants.

The read and the answer to one question are roles.access; ``POST /api/v1/authz/check``'s
one-statement path is roles.authz.
"""
from __future__ import annotations

import functools

from flask import current_app
from flask.globals import _cv_request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from edlink import clock
from edlink.errors import Forbidden
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from roles import cache
from roles.access import UNAUTHENTICATED, Access, Decision
from roles.models import Grant

_MEMO = cache.MEMO_ATTR


def _access(user_id: int) -> Access:
    """The user's access for this request: read on its first question, then kept (read again
    when a grant's start or end passes, or after this transaction writes what it is built on)."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return Access.load(user_id)
    memo = ctx.__dict__.get(_MEMO)
    if memo is None:
        memo = cache.request_memo()
    per_user = memo.get("access")
    if per_user is None:
        per_user = memo["access"] = {}
    access = per_user.get(user_id)
    if access is None or (access.until is not None and clock.now() >= access.until):
        access = per_user[user_id] = Access.load(user_id)
    return access


@event.listens_for(Session, "after_flush")
def _forget_on_write(session, _flush_context) -> None:
    """A write in this transaction to what the gate reads makes the request's copy stale."""
    from roles.models import CatalogRole
    changed = list(session.new) + list(session.dirty) + list(session.deleted)
    if any(isinstance(obj, (Grant, Link, StaffRecord, User)) for obj in changed):
        memo = cache.request_memo()
        if memo:
            memo.pop("access", None)
    if any(isinstance(obj, (Org, CatalogRole)) for obj in changed):
        cache.forget()


# -- arguments ----------------------------------------------------------------------------

def _signed_in() -> User | None:
    return current_user._get_current_object() if getattr(current_user, "is_authenticated", False) else None


_UNSET = object()


def _args(args: tuple, kwargs: dict) -> tuple[User | None, str, object]:
    """Accept ``(user, permission, org)`` and the permission-first ``(permission, org, user)``.
    Without a user (or ``user=None``), the signed-in one; a positional ``None`` user in the
    user-first form means nobody."""
    user, permission, org = kwargs.pop("user", None), kwargs.pop("permission", None), kwargs.pop("org", None)
    if user is None:
        user = _UNSET
    if kwargs:
        raise TypeError(f"unexpected arguments: {', '.join(kwargs)}")
    if args and isinstance(args[0], str):
        permission, rest = args[0], args[1:]
        if rest:
            org = rest[0]
        if len(rest) > 1 and rest[1] is not None:
            user = rest[1]
    elif args:
        user, rest = args[0], args[1:]
        if rest:
            permission = rest[0]
        if len(rest) > 1:
            org = rest[1]
    if not isinstance(permission, str):
        raise TypeError("the gate needs a permission code")
    if user is _UNSET:
        user = _signed_in()
    return user, permission, org


# -- the questions ------------------------------------------------------------------------

def can(*args, **kwargs) -> Decision:
    """May ``user`` (default: the signed-in user) use ``permission`` at ``org`` (None: anywhere)?"""
    if kwargs or len(args) != 3 or args[1].__class__ is not str or not isinstance(args[0], User):
        user, permission, org = _args(args, kwargs)
        if user is None:
            return UNAUTHENTICATED
    else:
        user, permission, org = args  # the common form, without the argument juggling
    user_id = user.id
    # the request's copy of the user's access (as _access, inlined: this is the hot path)
    ctx = _cv_request.get(None)
    memo = ctx.__dict__.get(_MEMO) if ctx is not None else None
    per_user = memo.get("access") if memo is not None else None
    access = per_user.get(user_id) if per_user is not None else None
    if access is None or (access.until is not None and clock.now() >= access.until):
        access = _access(user_id)
    key = (permission, org.id if isinstance(org, Org) else org)
    decision = access.decisions.get(key)
    if decision is None:
        decision = access.decisions[key] = access.decide(permission, key[1])
    return decision


def require(*args, **kwargs) -> Decision:
    """Like :func:`can`, but a refusal raises 403 and leaves an ``authz.denied`` event."""
    user, permission, org = _args(args, kwargs)
    decision = can(user, permission, org)
    if decision:
        return decision
    where = org.code if isinstance(org, Org) else org
    exc = Forbidden("forbidden", f"You do not have the permission {permission}"
                                 f"{f' at {where}' if where is not None else ''}.")
    actor_id = user.id if user is not None else None
    org_code = where if isinstance(where, str) else None

    def record_denial() -> None:
        import audit
        actor = db.session.get(User, actor_id) if actor_id is not None else None
        audit.record("authz.denied", actor, ("permission", permission), org_code,
                     {"permission": permission, "reason": decision.code})
    exc.after_rollback = record_denial
    raise exc


def orgs_with(*args, **kwargs) -> set[int]:
    """Ids of every org where the user holds ``permission`` (for filtering queries)."""
    if args and isinstance(args[0], str):  # orgs_with(permission[, user])
        args = (args[1] if len(args) > 1 and args[1] is not None else kwargs.pop("user", _UNSET),
                args[0])
        if args[0] is _UNSET:
            args = (_signed_in(), args[1])
    user, permission, _org = _args(args, kwargs)
    if user is None:
        return set()
    scope = _access(user.id).scope(permission)
    return set(scope)


def role_codes(user: User | None = None) -> set[str]:
    user = user if user is not None else _signed_in()
    return {role for role, _org in _access(user.id).roles} if user else set()


def grants_in_force(user: User) -> list[Grant]:
    """The user's grants that give permissions right now (linked, active staff, in window)."""
    now = clock.now()
    if not _access(user.id).roles:
        return []
    grants = db.session.execute(
        db.select(Grant).where(Grant.user_id == user.id, Grant.status == "active")).scalars()
    return [g for g in grants if g.in_force(now)]


def held_grants(user: User) -> list[tuple[Grant, bool]]:
    """The user's active and suspended grants, each with whether it gives permissions now
    (an active grant does not while the user is unlinked, their staff record is not active, or
    it is outside its start/end window)."""
    now = clock.now()
    in_force = {(role, org_id) for role, org_id in _access(user.id).roles}
    grants = db.session.execute(
        db.select(Grant).where(Grant.user_id == user.id, Grant.status.in_(("active", "suspended")))
        .order_by(Grant.starts_at)).scalars()
    return [(g, g.in_force(now) and (g.role_code, g.org_id) in in_force) for g in grants]


def why_not_in_force(user: User) -> str | None:
    """Why the user's grants give nothing at all (unlinked, staff record not active, disabled)."""
    nothing = _access(user.id).nothing
    return None if nothing is None or nothing.code == "no_grant" else nothing.reason


def requires(permission: str, org=None):
    """View decorator: sign-in required, then the permission (at ``org``: an Org, a code, or a
    function of the view's keyword arguments returning one)."""
    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if _signed_in() is None:
                return current_app.login_manager.unauthorized()
            require(permission, org(**kwargs) if callable(org) else org)
            return view(*args, **kwargs)
        return guarded
    return decorate
