"""One user's permissions as of one read, and the gate's answer to one question from them.

``Access.load(user_id)`` reads, in one Core statement on the session's connection (so it sees
this transaction's own writes), whether the user may hold anything (account enabled, username
linked to a staff record whose HR status is active) and their active grants, with the ``gate``
cache epoch alongside. The grants become permission -> {grant org id: role}; a question is
then two or three dict lookups (the org itself, its LEA, a state org). Refusals that do not
depend on the org are one shared :class:`Decision` per user (or per permission); reasons are
written out only when someone reads them.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import and_, bindparam, literal_column, select

from edlink import clock
from edlink.extensions import db
from edlink.models import CacheEpoch, Link, StaffRecord, User
from roles import cache
from roles.models import Grant
from roles.prepared import Prepared

_MISSING = object()


class Decision:
    """The gate's answer: truthy when allowed; ``code`` is stable, ``reason`` is for people.

    The reason may be given as a function, or as a tuple ``(function, *arguments)``, written
    out only when someone reads it (most answers are only ever tested for truth)."""

    __slots__ = ("allowed", "code", "_reason")

    def __init__(self, allowed: bool, reason, code: str = ""):
        self.allowed, self._reason, self.code = allowed, reason, code

    @property
    def reason(self) -> str:
        reason = self._reason
        if reason.__class__ is tuple:
            reason = self._reason = reason[0](*reason[1:])
        elif callable(reason):
            reason = self._reason = reason()
        return reason

    def __bool__(self) -> bool:
        return self.allowed

    def __eq__(self, other) -> bool:
        return (isinstance(other, Decision) and (self.allowed, self.code, self.reason)
                == (other.allowed, other.code, other.reason))

    __hash__ = None

    def __repr__(self) -> str:
        return f"Decision(allowed={self.allowed}, code={self.code!r}, reason={self.reason!r})"


UNAUTHENTICATED = Decision(False, "Nobody is signed in.", "unauthenticated")

# The columns every user's access is built from, in this order (the authz endpoint's lean path
# reads the same ones for two users at once).
_u, _l, _s, _g = User.__table__, Link.__table__, StaffRecord.__table__, Grant.__table__
_epoch = CacheEpoch.__table__
# Constants are written into the SQL, not bound: the only parameter is the user, so PostgreSQL's
# plan for the prepared statement (psycopg prepares a statement from its fifth use on a
# connection) is one generic plan, not planned again on every execution.
_ACTIVE = literal_column("'active'")
EPOCH = select(_epoch.c.value).where(_epoch.c.name == literal_column("'gate'")).scalar_subquery()
COLUMNS = (_u.c.username, _u.c.disabled, _l.c.id.label("link_id"), _s.c.status.label("staff_status"),
           _g.c.role_code, _g.c.org_id, _g.c.starts_at, _g.c.ends_at)
FROM = (_u.outerjoin(_l, and_(_l.c.user_id == _u.c.id, _l.c.ended_at.is_(None)))
        .outerjoin(_s, _s.c.id == _l.c.staff_record_id)
        .outerjoin(_g, and_(_g.c.user_id == _u.c.id, _g.c.status == _ACTIVE)))
_ROWS = Prepared(select(*COLUMNS, EPOCH.label("epoch")).select_from(FROM).where(_u.c.id == bindparam("uid")))


class Access:
    """One user's permissions as of one load: permission -> {grant org id: role code}."""

    __slots__ = ("user_id", "username", "snap", "held", "until", "decisions", "scopes", "roles", "nothing",
                 "no_grant")

    @classmethod
    def load(cls, user_id: int) -> Access:
        conn = db.session.connection()  # this transaction's: its own writes are seen
        rows = _ROWS.rows(conn.connection.driver_connection, conn.dialect, {"uid": user_id})
        return cls(user_id, rows, cache.snapshot(rows[0][-1]) if rows else None)

    def __init__(self, user_id: int, rows, snap):
        """``rows``: (username, disabled, link id, staff status, role, org id, starts, ends, ...)
        for one user, one per active grant (one row with no grant when there is none)."""
        self.user_id = user_id
        self.snap = snap if snap is not None else cache.snapshot()
        self.held: dict[str, dict[int, str]] = {}
        self.roles: list[tuple[str, int]] = []
        self.decisions: dict = {}
        self.scopes: dict[str, frozenset[int]] = {}
        self.no_grant: dict[str, Decision] = {}
        self.until: _dt.datetime | None = None
        first = rows[0] if rows else None
        self.username = first[0] if first is not None else None
        self.nothing = _nothing(first)  # why this user holds nothing at all, if so
        if self.nothing is not None:
            return
        now = clock.now()
        until = None
        role_perms = self.snap.role_perms
        for row in rows:
            role_code, org_id, starts_at, ends_at = row[4], row[5], row[6], row[7]
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
            for perm in role_perms.get(role_code, ()):
                self.held.setdefault(perm, {}).setdefault(org_id, role_code)
        self.until = until
        if not self.roles:
            self.nothing = Decision(False, f"{self.username} holds no role in force.", "no_grant")

    def fresh(self) -> bool:
        return self.until is None or clock.now() < self.until

    def decide(self, permission: str, org) -> Decision:
        """The answer for ``permission`` at ``org`` (an org id, an org code, or None: anywhere)."""
        snap = self.snap
        if org is None:
            lea = None
        else:
            if org.__class__ is not int:
                if isinstance(org, str):
                    code, org = org, snap.id_of.get(org)
                    if org is None:
                        if permission not in snap.catalog.permissions:
                            return _unknown_permission(permission)
                        return Decision(False, f"No organisation has the code {code!r}.", "unknown_org")
                elif isinstance(org, int):
                    org = int(org)
                else:
                    raise TypeError("org must be an Org, an org id or an org code")
            lea = snap.lea_of.get(org, _MISSING)
        held = self.held.get(permission)
        if held is None or lea is _MISSING:
            if permission not in snap.catalog.permissions:
                return _unknown_permission(permission)
            if lea is _MISSING:
                snap = cache.snapshot(force=True)  # an org newer than this copy
                lea = snap.lea_of.get(org, _MISSING)
                if lea is _MISSING:
                    return Decision(False, f"No organisation has the id {org}.", "unknown_org")
                self.snap = snap
            if held is None:
                if self.nothing is not None:
                    return self.nothing
                refusal = self.no_grant.get(permission)
                if refusal is None:
                    refusal = self.no_grant[permission] = Decision(
                        False, f"{self.username} holds no role that gives {permission}.", "no_grant")
                return refusal
        if org is None:
            via = next(iter(held))
            return Decision(True, (_granted_reason, snap, held[via], via, via, permission), "granted")
        if org in held:
            return Decision(True, (_granted_reason, snap, held[org], org, org, permission), "granted")
        if lea in held:
            return Decision(True, (_granted_reason, snap, held[lea], lea, org, permission), "granted")
        for via in snap.state_ids:
            if via in held:
                return Decision(True, (_granted_reason, snap, held[via], via, org, permission), "granted")
        return Decision(False, (_out_of_scope_reason, snap, self.username, permission, tuple(held), org),
                        "out_of_scope")

    def scope(self, permission: str) -> frozenset[int]:
        """Every org where the user holds ``permission``."""
        scope = self.scopes.get(permission)
        if scope is None:
            ids: set[int] = set()
            for org_id in self.held.get(permission, ()):
                ids |= self.snap.covered(org_id)
            scope = self.scopes[permission] = frozenset(ids)
        return scope


def _nothing(row) -> Decision | None:
    """The refusal for a user who may hold nothing (None when they may hold grants)."""
    if row is None:
        return Decision(False, "This user is not a known user.", "unknown_user")
    username, disabled, link_id, staff_status = row[0], row[1], row[2], row[3]
    if disabled:
        return Decision(False, f"{username} has a disabled account.", "account_disabled")
    if link_id is None:
        return Decision(False, f"{username} is not linked to a staff record.", "not_linked")
    if staff_status != "active":
        return Decision(False, (_staff_reason, username, staff_status), "staff_not_active")
    return None


def _staff_reason(username: str, status: str) -> str:
    return f"{username} has a staff record that is {status.replace('_', ' ')}, not active."


def _unknown_permission(permission: str) -> Decision:
    return Decision(False, f"{permission} is not a permission in the catalog.", "unknown_permission")


def _granted_reason(snap, role: str, via: int, org_id: int, permission: str) -> str:
    covers = "" if via == org_id else f", which covers {snap.code_of.get(org_id)}"
    return f"{snap.catalog.name_of(role)} at {snap.code_of.get(via)}{covers}, gives {permission}."


def _out_of_scope_reason(snap, username: str, permission: str, held: tuple[int, ...], org_id: int) -> str:
    return (f"{username} has {permission} only at {', '.join(sorted(snap.code_of.get(o, '?') for o in held))}, "
            f"which does not cover {snap.code_of.get(org_id)}.")
