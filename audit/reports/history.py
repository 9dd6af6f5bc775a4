"""The access world at a past instant, rebuilt from history rather than today's state.

- A grant's status at T: it had started (``starts_at``, the day TAS granted it for carry-overs)
  and not reached its end, and its last ``grant.suspended`` / ``grant.restored`` /
  ``grant.revoked`` / ``grant.expired`` event at or before T left it active.
- The org tree at T: today's parents and "served by", with each move recorded in an
  ``orgs.imported`` event after T undone (the event lists ``moves``: from, to).
- The catalog at T: today's roles (retired ones included) with every ``catalog.changed`` event
  after T undone (a role added after T did not exist; a changed role's permissions and
  implications go back to what they were).
- The gate's conditions on the person at T: a username link in force (``staff_link`` keeps when
  each began and ended) and a staff record whose status then was active (``staff_change``).
  Whether an account was disabled is not kept over time: today's value is used.
"""
from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select

from audit.models import AuditEvent
from edlink.extensions import db
from edlink.models import Link, Org, StaffChange, StaffRecord

STATUS_ACTIONS = {"grant.suspended": "suspended", "grant.restored": "active", "grant.revoked": "revoked",
                  "grant.expired": "expired"}


@dataclass
class Tree:
    kind: dict[int, str]
    code: dict[int, str]
    name: dict[int, str]
    parent: dict[int, int | None]
    served_by: dict[int, int | None]
    by_code: dict[str, int]

    def lea_of(self, org_id: int) -> int | None:
        if self.kind.get(org_id) == "lea":
            return org_id
        served = self.served_by.get(org_id)
        if served is not None:
            return served
        parent = self.parent.get(org_id)
        return parent if parent is not None and self.kind.get(parent) == "lea" else None

    def covering(self, org_id: int) -> dict[int, str]:
        """Orgs whose grants reach ``org_id`` then -> how ("at the org itself", ...)."""
        out = {org_id: "at the org itself"}
        lea = self.lea_of(org_id)
        if lea is not None and lea != org_id:
            out[lea] = f"{self.code[lea]} covers {self.code[org_id]}"
        for other, kind in self.kind.items():
            if kind == "state" and other != org_id:
                out[other] = "the state covers everything"
        return out

    def covers(self, grant_org: int, target: int) -> bool:
        return grant_org in self.covering(target)


def tree_at(at: _dt.datetime) -> Tree:
    rows = db.session.execute(select(Org.id, Org.code, Org.name, Org.kind, Org.parent_id, Org.served_by_id)).all()
    tree = Tree({r.id: r.kind for r in rows}, {r.id: r.code for r in rows}, {r.id: r.name for r in rows},
                {r.id: r.parent_id for r in rows}, {r.id: r.served_by_id for r in rows}, {r.code: r.id for r in rows})
    later = db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "orgs.imported", AuditEvent.occurred_at > at).order_by(AuditEvent.seq.desc())).scalars()
    for details in later:
        for code, move in ((details or {}).get("moves") or {}).items():
            org_id = tree.by_code.get(code)
            if org_id is None:
                continue
            for key, table in (("parent", tree.parent), ("served_by", tree.served_by)):
                if key in move:
                    before = move[key][0]
                    table[org_id] = tree.by_code.get(before) if before else None
    created_later = db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "orgs.imported", AuditEvent.occurred_at > at)).scalars()
    for details in created_later:  # an org created after T was in no tree then
        for code in (details or {}).get("created") or ():
            org_id = tree.by_code.get(code)
            if org_id is not None:
                tree.kind[org_id] = "absent"
    return tree


def role_perms_at(at: _dt.datetime) -> dict[str, frozenset[str]]:
    """role code -> the permissions it gave at ``at`` (implications followed)."""
    from roles.catalog import load
    catalog = load()
    defs = {code: {"permissions": list(r.permissions), "implies": list(r.implies)}
            for code, r in {**catalog.retired, **catalog.roles}.items()}
    later = db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "catalog.changed", AuditEvent.target_type == "catalog_role",
        AuditEvent.occurred_at > at).order_by(AuditEvent.seq.desc())).scalars()
    for details in later:
        d = details or {}
        code, change = d.get("code"), d.get("change")
        if code is None:
            continue
        if change in ("added", "restored"):
            defs.pop(code, None)
        elif change == "changed":
            for key in ("permissions", "implies"):
                diff = (d.get("changed") or {}).get(key)
                if diff is not None and code in defs:
                    defs[code][key] = list(diff.get("from") or [])
    out: dict[str, frozenset[str]] = {}

    def effective(code: str, path: tuple[str, ...]) -> set[str]:
        if code in path or code not in defs:
            return set()
        perms = set(defs[code]["permissions"])
        for implied in defs[code]["implies"]:
            perms |= effective(implied, path + (code,))
        return perms
    for code in defs:
        out[code] = frozenset(effective(code, ()))
    return out


def grant_status_at(grants: list, at: _dt.datetime) -> dict[int, str]:
    """grant id -> its status just after ``at`` by its events (``active`` when none changed it).

    A grant that is revoked or expired now and got there at or before ``at`` (its row says when)
    counts as such even if the trail lacks the event (data loaded from elsewhere)."""
    status = {g.id: "active" for g in grants}
    keys = [str(g.id) for g in grants]
    for start in range(0, len(keys), 500):
        for target_id, action in db.session.execute(select(AuditEvent.target_id, AuditEvent.action).where(
                AuditEvent.target_type == "grant", AuditEvent.target_id.in_(keys[start:start + 500]),
                AuditEvent.action.in_(tuple(STATUS_ACTIONS)), AuditEvent.occurred_at <= at)
                .order_by(AuditEvent.seq)):
            status[int(target_id)] = STATUS_ACTIONS[action]
    for g in grants:
        if g.status in ("revoked", "expired"):
            ended = g.revoked_at or g.status_changed_at or (g.ends_at if g.status == "expired" else None)
            if ended is not None and ended <= at:
                status[g.id] = g.status
    return status


def people_at(user_ids: set[int], at: _dt.datetime) -> dict[int, tuple[StaffRecord | None, str | None]]:
    """user id -> (the staff record linked at ``at``, why they could do nothing then, or None)."""
    from edlink.models import User
    out: dict[int, tuple[StaffRecord | None, str | None]] = {}
    if not user_ids:
        return out
    links = db.session.execute(select(Link.user_id, StaffRecord)
                               .join(StaffRecord, StaffRecord.id == Link.staff_record_id)
                               .where(Link.user_id.in_(sorted(user_ids)), Link.created_at <= at,
                                      or_(Link.ended_at.is_(None), Link.ended_at > at))).all()
    linked = {uid: record for uid, record in links}
    changes: dict[int, list[tuple[_dt.datetime, str | None, str | None]]] = defaultdict(list)
    if linked:
        for rec_id, when, old, new in db.session.execute(select(
                StaffChange.staff_record_id, StaffChange.changed_at, StaffChange.old_value, StaffChange.new_value)
                .where(StaffChange.field == "status", StaffChange.staff_record_id.in_([r.id for r in linked.values()]))
                .order_by(StaffChange.changed_at, StaffChange.id)):
            changes[rec_id].append((when, old, new))
    disabled = dict(db.session.execute(select(User.id, User.disabled).where(User.id.in_(sorted(user_ids)))).all())
    for uid in user_ids:
        record = linked.get(uid)
        if disabled.get(uid):
            out[uid] = (record, "account disabled (today)")
        elif record is None:
            out[uid] = (None, "not linked to a staff record then")
        else:
            status = staff_status_at(record.status, changes.get(record.id, []), at)
            out[uid] = (record, None if status == "active" else f"staff record {status} then")
    return out


def staff_status_at(today: str, changes: list, at: _dt.datetime) -> str:
    before = [c for c in changes if c[0] <= at]
    if before:
        return before[-1][2] or today
    after = [c for c in changes if c[0] > at]
    return (after[0][1] or today) if after else today
