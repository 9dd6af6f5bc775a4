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
"""
from __future__ import annotations

import datetime as _dt
import functools

from flask import current_app
from flask_login import current_user
from sqlalchemy import and_, bindparam, event, select
from sqlalchemy.orm import Session

from edlink import clock
from edlink.errors import Forbidden
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from roles import cache
from roles.models import Grant


class Decision:
    """The gate's answer: truthy when allowed; ``code`` is stable, ``reason`` is for people.

    The reason may be given as a function, written out only when someone reads it (most
    answers are only ever tested for truth)."""

    __slots__ = ("allowed", "code", "_reason")

    def __init__(self, allowed: bool, reason, code: str = ""):
        self.allowed, self._reason, self.code = allowed, reason, code

    @property
    def reason(self) -> str:
        if callable(self._reason):
            self._reason = self._reason()
        return self._reason

    def __bool__(self) -> bool:
        return self.allowed

    def __eq__(self, other) -> bool:
        return (isinstance(other, Decision) and (self.allowed, self.code, self.reason)
                == (other.allowed, other.code, other.reason))

    __hash__ = None

    def __repr__(self) -> str:
        return f"Decision(allowed={self.allowed}, code={self.code!r}, reason={self.reason!r})"


# One query answers everything about a user: whether they may hold anything (enabled, linked,
# staff record active) and their active grants, with the cache epoch alongside.
_GRANT_ROWS = (
    select(User.disabled, Link.id.label("link_id"), StaffRecord.status.label("staff_status"),
           Grant.role_code, Grant.org_id, Grant.starts_at, Grant.ends_at, cache.EPOCH.label("epoch"))
    .select_from(User)
    .outerjoin(Link, and_(Link.user_id == User.id, Link.ended_at.is_(None)))
    .outerjoin(StaffRecord, StaffRecord.id == Link.staff_record_id)
    .outerjoin(Grant, and_(Grant.user_id == User.id, Grant.status == "active"))
    .where(User.id == bindparam("uid"))
)


class Access:
    """One user's permissions as of one load: permission -> {grant org id: role code}."""

    __slots__ = ("user_id", "snap", "orgs", "until", "decisions", "scopes", "roles", "nothing")

    def __init__(self, user_id: int):
        self.user_id = user_id
        now = clock.now()
        until: _dt.datetime | None = None
        with db.session.no_autoflush:  # a question never flushes half-built objects
            rows = db.session.execute(_GRANT_ROWS, {"uid": user_id}).all()
        self.orgs: dict[str, dict[int, str]] = {}
        self.roles: list[tuple[str, int]] = []
        self.decisions: dict[tuple[str, int | None], Decision] = {}
        self.scopes: dict[str, frozenset[int]] = {}
        self.until = None
        self.nothing = _nothing(rows[0] if rows else None)  # why this user holds nothing at all, if so
        self.snap = cache.snapshot(rows[0].epoch) if rows else None
        if self.nothing is not None:
            return
        for _disabled, _link, _status, role_code, org_id, starts_at, ends_at, _epoch in rows:
            if role_code is None:
                continue
            if starts_at > now:  # not yet in force: look again when it starts
                until = starts_at if until is None else min(until, starts_at)
                continue
            if ends_at is not None:
                if ends_at <= now:  # past its end (the grants.expire job marks it expired)
                    continue
                until = ends_at if until is None else min(until, ends_at)
            self.roles.append((role_code, org_id))
            for perm in self.snap.role_perms.get(role_code, ()):
                self.orgs.setdefault(perm, {}).setdefault(org_id, role_code)
        self.until = until
        if not self.roles:
            self.nothing = Decision(False, "holds no role in force.", "no_grant")

    def fresh(self) -> bool:
        return self.until is None or clock.now() < self.until


def _nothing(row) -> Decision | None:
    """The refusal for a user who may hold nothing (None when they may hold grants)."""
    if row is None:
        return Decision(False, "is not a known user.", "unknown_user")
    if row.disabled:
        return Decision(False, "has a disabled account.", "account_disabled")
    if row.link_id is None:
        return Decision(False, "is not linked to a staff record.", "not_linked")
    if row.staff_status != "active":
        return Decision(False, f"has a staff record that is {row.staff_status.replace('_', ' ')}, not active.",
                        "staff_not_active")
    return None


def _access(user_id: int) -> Access:
    memo = cache.request_memo()
    if memo is None:
        return Access(user_id)
    per_user = memo.setdefault("access", {})
    access = per_user.get(user_id)
    if access is None or (access.until is not None and clock.now() >= access.until):
        access = per_user[user_id] = Access(user_id)
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


def _org_id(org, snap) -> int | None | bool:
    """The org's id (None for "anywhere"); False when the code or id names no org."""
    if org is None:
        return None
    if isinstance(org, Org):
        return org.id
    if isinstance(org, int):
        return org
    if isinstance(org, str):
        return snap.id_of.get(org, False)
    raise TypeError("org must be an Org, an org id or an org code")


# -- the questions ------------------------------------------------------------------------

def can(*args, **kwargs) -> Decision:
    """May ``user`` (default: the signed-in user) use ``permission`` at ``org`` (None: anywhere)?"""
    if not kwargs and len(args) == 3 and isinstance(args[0], User) and isinstance(args[1], str):
        user, permission, org = args  # the common form, without the argument juggling
    else:
        user, permission, org = _args(args, kwargs)
    if user is None:
        return Decision(False, "Nobody is signed in.", "unauthenticated")
    access = _access(user.id)
    org_key = org.id if isinstance(org, Org) else org
    decision = access.decisions.get((permission, org_key))
    if decision is None:
        decision = access.decisions[(permission, org_key)] = _decide(user, access, permission, org)
    return decision


def _decide(user: User, access: Access, permission: str, org) -> Decision:
    snap = access.snap or cache.snapshot()
    if permission not in snap.catalog.permissions:
        return Decision(False, f"{permission} is not a permission in the catalog.", "unknown_permission")
    org_id = _org_id(org, snap)
    if org_id is False:
        return Decision(False, f"No organisation has the code {org!r}.", "unknown_org")
    if org_id is not None and org_id not in snap.kind_of:
        snap = cache.snapshot(force=True)  # an org newer than this copy
        if org_id not in snap.kind_of:
            return Decision(False, f"No organisation has the id {org_id}.", "unknown_org")
    username = user.username
    nothing = access.nothing
    if nothing is not None:
        return Decision(False, lambda: f"{username} {nothing.reason}", nothing.code)
    held = access.orgs.get(permission)
    if not held:
        return Decision(False, lambda: f"{username} holds no role that gives {permission}.", "no_grant")
    if org_id is None:
        grant_org, role = next(iter(held.items()))
        return Decision(True, lambda: f"{snap.catalog.name_of(role)} at {snap.code_of.get(grant_org)} "
                                      f"gives {permission}.", "granted")
    via = org_id if org_id in held else snap.lea_of.get(org_id)
    if via is None or via not in held:
        via = next((s for s in snap.state_ids if s in held), None)
    if via is not None:
        role = held[via]
        return Decision(True, lambda: _granted_reason(snap, role, via, org_id, permission), "granted")
    return Decision(False, lambda: f"{username} has {permission} only at "
                                   f"{', '.join(sorted(snap.code_of.get(o, '?') for o in held))}, "
                                   f"which does not cover {snap.code_of.get(org_id)}.", "out_of_scope")


def _granted_reason(snap, role: str, via: int, org_id: int, permission: str) -> str:
    covers = "" if via == org_id else f", which covers {snap.code_of.get(org_id)}"
    return f"{snap.catalog.name_of(role)} at {snap.code_of.get(via)}{covers}, gives {permission}."


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
    access = _access(user.id)
    scope = access.scopes.get(permission)
    if scope is None:
        held = access.orgs.get(permission, {})
        snap = access.snap
        ids: set[int] = set()
        for org_id in held:
            ids |= snap.covered(org_id)
        scope = access.scopes[permission] = frozenset(ids)
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
    return None if nothing is None or nothing.code == "no_grant" else f"{user.username} {nothing.reason}"


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
