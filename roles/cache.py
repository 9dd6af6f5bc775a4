"""Each process's copy of the catalog and the org tree, rebuilt when the ``gate`` epoch moves.

The copy belongs to the Flask app (two app instances on one database behave like two
processes). Whatever changes the catalog or the org tree calls ``edlink.models.bump_epoch`` in
its own transaction; every process compares the epoch it built its copy at with the database
once per request (the gate reads it in the same query as the user's grants), so no copy
outlives a committed change. Grants are never cached beyond one request.

Until the first ``edlink catalog sync`` the database holds no catalog, and the packaged
roles/catalog.toml is in force; from then on, what the last sync applied.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import current_app
from flask.globals import _cv_request
from sqlalchemy import select

from edlink.extensions import db
from edlink.models import CacheEpoch, Org
from roles.catalog import Catalog, Role, _effective, packaged, role_from_row

_lock = threading.Lock()


@dataclass(frozen=True)
class Snapshot:
    epoch: int | None
    catalog: Catalog
    roles_with: dict[str, frozenset[str]]     # permission -> roles that carry it
    role_perms: dict[str, frozenset[str]]     # role -> its permissions, implications included
    lea_of: dict[int, int | None]             # org -> the LEA it belongs to or is served by
    kind_of: dict[int, str]
    code_of: dict[int, str]
    id_of: dict[str, int]
    state_ids: frozenset[int]
    members: dict[int, frozenset[int]]        # LEA -> itself, its schools and served sites

    def covered(self, org_id: int) -> frozenset[int]:
        """Every org a grant at ``org_id`` covers (DESIGN.md "Scope")."""
        if org_id in self.state_ids:
            return frozenset(self.kind_of)
        return self.members.get(org_id, frozenset((org_id,)))


MEMO_ATTR = "edlink_gate_memo"  # on Flask's RequestContext (edlink.models.bump_epoch clears it too)


def request_memo() -> dict | None:
    """A dict that lives as long as the current request (None outside a request)."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return None
    memo = ctx.__dict__.get(MEMO_ATTR)
    if memo is None:
        memo = {}
        setattr(ctx, MEMO_ATTR, memo)
    return memo


def current_epoch() -> int | None:
    memo = request_memo()
    if memo is not None and "epoch" in memo:
        return memo["epoch"]
    with db.session.no_autoflush:
        value = db.session.execute(select(CacheEpoch.value).where(CacheEpoch.name == "gate")).scalar()
    if memo is not None:
        memo["epoch"] = value
    return value


def snapshot(epoch: int | None = None, *, force: bool = False) -> Snapshot:
    """The app's copy, rebuilt when ``epoch`` (default: the database's, once per request) moved."""
    if epoch is None:
        epoch = current_epoch()
    snap = current_app.extensions.get("roles.snapshot")
    if snap is not None and snap.epoch == epoch and not force:
        return snap
    with _lock, db.session.no_autoflush:
        snap = _build(epoch)
        current_app.extensions["roles.snapshot"] = snap
    return snap


def snapshot_of(app, epoch: int | None) -> Snapshot:
    """``app``'s copy as of ``epoch``, without an app context while the copy is current (the
    authz check's lean path runs without one); rebuilt inside one when the epoch moved."""
    snap = app.extensions.get("roles.snapshot")
    if snap is not None and snap.epoch == epoch:
        return snap
    with app.app_context():
        return snapshot(epoch)


def forget() -> None:
    """Drop this app's copy and the request's memo (after this transaction changed either)."""
    current_app.extensions.pop("roles.snapshot", None)
    memo = request_memo()
    if memo is not None:
        memo.clear()


def _build(epoch: int | None) -> Snapshot:
    from roles.models import CatalogApplication, CatalogPermission, CatalogRole
    apps = {a.code: {**(a.settings or {}), "name": a.name, "description": a.description}
            for a in db.session.execute(select(CatalogApplication)
                                        .where(CatalogApplication.retired_at.is_(None))).scalars()}
    perms = {p.code: p.description
             for p in db.session.execute(select(CatalogPermission)
                                         .where(CatalogPermission.retired_at.is_(None))).scalars()}
    roles: dict[str, Role] = {}
    retired: dict[str, Role] = {}
    for row in db.session.execute(select(CatalogRole).order_by(CatalogRole.code)).scalars():
        role = role_from_row(row.code, row.name, row.application, row.definition or {})
        (retired if row.retired_at is not None else roles)[row.code] = role
    if roles or retired:
        catalog = Catalog(apps, perms, roles, retired=retired, epoch=epoch or 0)
        for code in roles:
            catalog.effective[code] = frozenset(_effective(roles, code, ()))
    else:  # never synced: the packaged catalog is in force until the first `edlink catalog sync`
        catalog = packaged()
    roles_with: dict[str, set[str]] = {}
    for code, granted in catalog.effective.items():
        for perm in granted:
            roles_with.setdefault(perm, set()).add(code)

    rows = db.session.execute(select(Org.id, Org.kind, Org.parent_id, Org.served_by_id, Org.code)).all()
    kind_of = {r.id: r.kind for r in rows}
    code_of = {r.id: r.code for r in rows}
    lea_of: dict[int, int | None] = {}
    for r in rows:  # the same rule as Org.lea
        if r.kind == "lea":
            lea_of[r.id] = r.id
        elif r.served_by_id is not None:
            lea_of[r.id] = r.served_by_id
        elif r.parent_id is not None and kind_of.get(r.parent_id) == "lea":
            lea_of[r.id] = r.parent_id
        else:
            lea_of[r.id] = None
    members: dict[int, set[int]] = {}
    for org_id, lea in lea_of.items():
        if lea is not None:
            members.setdefault(lea, set()).add(org_id)
    return Snapshot(
        epoch=epoch, catalog=catalog,
        roles_with={p: frozenset(r) for p, r in roles_with.items()},
        role_perms=dict(catalog.effective), lea_of=lea_of, kind_of=kind_of, code_of=code_of,
        id_of={code: org_id for org_id, code in code_of.items()},
        state_ids=frozenset(i for i, k in kind_of.items() if k == "state"),
        members={lea: frozenset(ids) for lea, ids in members.items()})
