"""``edlink catalog sync``: validate a catalog file and apply it to the database.

Each added, changed, retired or restored application, permission and role is one
``catalog.changed`` event. A role no longer in the file is retired, never deleted (history
keeps its name); its grants still in force are revoked with the reason, each audited.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import audit
from edlink import clock
from edlink.extensions import db
from edlink.models import bump_epoch
from edlink.orgs import state_org
from roles.catalog import Catalog, packaged_text, parse, role_dict
from roles.models import CatalogApplication, CatalogPermission, CatalogRole, Grant


@dataclass
class SyncResult:
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, code, change)
    revoked: list[int] = field(default_factory=list)

    def summary(self) -> str:
        if not self.changes:
            return "the catalog is up to date: nothing changed"
        counts: dict[str, int] = {}
        for _kind, _code, change in self.changes:
            counts[change] = counts.get(change, 0) + 1
        text = ", ".join(f"{change} {n}" for change, n in sorted(counts.items()))
        return text + (f"; grants revoked with retired roles {len(self.revoked)}" if self.revoked else "")


def sync(text: str | None = None, *, actor="system:cli") -> SyncResult:
    """Apply ``text`` (default: the packaged roles/catalog.toml). Raises CatalogError, changing
    nothing, when the file is invalid."""
    catalog = parse(text if text is not None else packaged_text())
    result = SyncResult()
    now = clock.now()
    _sync_rows(CatalogApplication, "application", {c: {"name": a.get("name", c),
               "description": " ".join(str(a.get("description", "")).split()),
               "settings": {k: v for k, v in a.items() if k not in ("name", "description")}}
               for c, a in catalog.applications.items()}, now, actor, result)
    _sync_rows(CatalogPermission, "permission", {c: {"description": d} for c, d in catalog.permissions.items()},
               now, actor, result)
    _sync_roles(catalog, now, actor, result)
    if result.changes:
        bump_epoch()
    return result


def _event(actor, kind: str, code: str, change: str, details: dict, result: SyncResult) -> None:
    result.changes.append((kind, code, change))
    audit.record("catalog.changed", actor, (f"catalog_{kind}", code), state_org(),
                 {"kind": kind, "code": code, "change": change, **details})


def _sync_rows(model, kind: str, wanted: dict[str, dict], now, actor, result: SyncResult) -> None:
    rows = {r.code: r for r in db.session.execute(db.select(model)).scalars()}
    for code, values in wanted.items():
        row = rows.get(code)
        if row is None:
            db.session.add(model(code=code, **values))
            _event(actor, kind, code, "added", values, result)
            continue
        before = {k: getattr(row, k) for k in values}
        if before != values or row.retired_at is not None:
            change = "restored" if row.retired_at is not None else "changed"
            for k, v in values.items():
                setattr(row, k, v)
            row.retired_at = None
            _event(actor, kind, code, change, _diff(before, values), result)
    for code, row in rows.items():
        if code not in wanted and row.retired_at is None:
            row.retired_at = now
            _event(actor, kind, code, "retired", {}, result)
    db.session.flush()


def _sync_roles(catalog: Catalog, now, actor, result: SyncResult) -> None:
    rows = {r.code: r for r in db.session.execute(db.select(CatalogRole)).scalars()}
    for code, role in catalog.roles.items():
        values = {"name": role.name, "application": role.application, "definition": role_dict(role)}
        row = rows.get(code)
        if row is None:
            db.session.add(CatalogRole(code=code, created_at=now, updated_at=now, **values))
            _event(actor, "role", code, "added", {"name": role.name}, result)
            continue
        before = {"name": row.name, "application": row.application, "definition": row.definition}
        if before != values or row.retired_at is not None:
            change = "restored" if row.retired_at is not None else "changed"
            row.name, row.application, row.definition = values["name"], values["application"], values["definition"]
            row.updated_at, row.retired_at = now, None
            _event(actor, "role", code, change, _diff(
                {"name": before["name"], "application": before["application"], **(before["definition"] or {})},
                {"name": role.name, "application": role.application, **values["definition"]}), result)
    db.session.flush()
    from roles.grants import revoke
    for code, row in rows.items():
        if code in catalog.roles or row.retired_at is not None:
            continue
        row.retired_at = row.updated_at = now
        _event(actor, "role", code, "retired", {"name": row.name}, result)
        held = db.session.execute(db.select(Grant).where(
            Grant.role_code == code, Grant.status.in_(("active", "suspended")))).scalars().all()
        for grant in held:
            revoke(grant, actor=actor, reason=f"the role {row.name} was retired from the catalog")
            result.revoked.append(grant.id)
    db.session.flush()


def _diff(before: dict, after: dict) -> dict:
    return {"changed": {k: {"from": before.get(k), "to": after.get(k)}
                        for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}}
