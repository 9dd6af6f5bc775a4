"""The staff directory: import HR files, set usernames, search, and keep every change."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, or_

import audit
from edlink import clock
from edlink.csvio import ImportRejected, ImportResult, RowError, read_rows
from edlink.errors import Conflict, Forbidden, Invalid, NotFound
from edlink.extensions import db
from edlink.models import SITE_KINDS, STAFF_STATUSES, Link, Org, StaffChange, StaffRecord, User
from edlink.orgs import covers

STAFF_COLUMNS = ["staff_id", "employee_number", "first_name", "last_name", "email", "lea_code",
                 "site_codes", "staff_type", "status", "username"]
TRACKED = ["employee_number", "first_name", "last_name", "email", "lea_code", "site_codes",
           "staff_type", "status", "username"]
STAFF_ID_RE = re.compile(r"^\d{10}$")
EMPLOYEE_NUMBER_RE = re.compile(r"^\d{8}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def username_key(username: str | None) -> str | None:
    key = (username or "").strip().lower()
    return key or None


def get_staff(staff_id: str) -> StaffRecord:
    record = db.session.execute(db.select(StaffRecord).where(StaffRecord.staff_id == staff_id)
                                ).scalar_one_or_none()
    if record is None:
        raise NotFound("unknown_staff_id", f"No staff record has the staff ID {staff_id}.")
    return record


def snapshot(record: StaffRecord) -> dict[str, str | None]:
    return {"employee_number": record.employee_number, "first_name": record.first_name,
            "last_name": record.last_name, "email": record.email, "lea_code": record.lea.code,
            # sorted here, as import rows are, whatever order the database collates codes in
            "site_codes": ";".join(sorted(s.code for s in record.sites)), "staff_type": record.staff_type,
            "status": record.status, "username": record.username}


@dataclass
class Actor:
    """Who makes a change and through what door (for history rows and audit events)."""

    who: Any  # a User or a "system:..." label
    source: str  # import | page | api | cli | demo
    manages: set[int] | None = None  # org ids the actor may manage; None: everything (CLI)

    @property
    def user_id(self) -> int | None:
        return self.who.id if isinstance(self.who, User) else None


@dataclass(frozen=True)
class FieldChange:
    """One tracked field of a staff record changed by an import (values as in the file)."""

    record: StaffRecord
    field: str
    old: str | None
    new: str | None


@dataclass
class StaffImport:
    """What a change listener learns about the import that made the changes."""

    batch: str  # the import's id (StaffChange.batch, the staff.imported event's target)
    event_seq: int  # the staff.imported audit event
    actor: Actor
    changes: list[FieldChange] = dc_field(default_factory=list)


CHANGE_LISTENERS = "edlink.staff.change_listeners"
ChangeListener = Callable[[StaffImport], "dict[str, int] | None"]


def add_change_listener(app: Flask, listener: ChangeListener) -> None:
    """Call ``listener(staff_import)`` at the end of every staff import, in the import's
    transaction, with the changes to records that existed before it (new records are not
    changes). Higher packages (workflows: the HR lifecycle) register here in their
    ``init_app``; edlink never imports them. A listener raising rejects the whole import. What it
    returns (counts) is added to the import's result under ``details["access"]``."""
    app.extensions.setdefault(CHANGE_LISTENERS, []).append(listener)


def _tell_listeners(staff_import: StaffImport, result: ImportResult) -> None:
    if not staff_import.changes:
        return
    totals: dict[str, int] = {}
    for listener in current_app.extensions.get(CHANGE_LISTENERS, ()):
        for key, value in (listener(staff_import) or {}).items():
            totals[key] = totals.get(key, 0) + value
    if totals:
        result.details["access"] = totals


def _may_manage(actor: Actor, lea: Org) -> bool:
    return actor.manages is None or lea.id in actor.manages


def _record_changes(record: StaffRecord, before: dict, after: dict, actor: Actor, batch: str | None):
    now = clock.now()
    changed = {}
    for name in TRACKED:
        if (before.get(name) or None) != (after.get(name) or None):
            changed[name] = (before.get(name), after.get(name))
            db.session.add(StaffChange(staff_record_id=record.id, field=name,
                                       old_value=before.get(name), new_value=after.get(name),
                                       changed_at=now, changed_by_id=actor.user_id,
                                       source=actor.source, batch=batch))
    if "status" in changed and before:
        audit.record("staff.status_changed", actor.who, ("staff_record", record.staff_id), record.lea,
                     {"from": changed["status"][0], "to": changed["status"][1], "source": actor.source})
    if "username" in changed and before:
        audit.record("staff.username_set", actor.who, ("staff_record", record.staff_id), record.lea,
                     {"from": changed["username"][0], "to": changed["username"][1], "source": actor.source})
        end_link_for_record(record, actor.who, "the username on the staff record changed")
    return changed


def end_link_for_record(record: StaffRecord, actor, reason: str) -> Link | None:
    link = db.session.execute(db.select(Link).where(
        Link.staff_record_id == record.id, Link.ended_at.is_(None))).scalar_one_or_none()
    if link is None:
        return None
    link.ended_at, link.ended_reason = clock.now(), reason
    db.session.flush()
    audit.record("link.removed", actor, link, record.lea,
                 {"user": link.user.username, "staff_id": record.staff_id, "reason": reason})
    return link


def set_username(record: StaffRecord, username: str | None, actor: Actor) -> StaffRecord:
    """Enter (or clear, with an empty value) the identity username on a staff record."""
    if not _may_manage(actor, record.lea):
        raise Forbidden("forbidden", "You do not manage the staff of this school system.")
    username = (username or "").strip() or None
    if username and (len(username) > 150 or any(c.isspace() for c in username)):
        raise Invalid("invalid_username", "A username is 1 to 150 characters with no spaces.",
                      fields={"username": ["1 to 150 characters, no spaces"]})
    key = username_key(username)
    if key:
        owner = db.session.execute(db.select(StaffRecord).where(
            StaffRecord.username_key == key, StaffRecord.id != record.id)).scalar_one_or_none()
        if owner is not None:
            raise Conflict("username_in_use", "That username is already on another person's staff record.")
    before = snapshot(record)
    if username == record.username:
        return record
    record.username, record.username_key, record.updated_at = username, key, clock.now()
    db.session.flush()
    _record_changes(record, before, snapshot(record), actor, None)
    return record


def history(record: StaffRecord) -> list[StaffChange]:
    return list(db.session.execute(db.select(StaffChange).where(
        StaffChange.staff_record_id == record.id).order_by(StaffChange.changed_at.desc(),
                                                           StaffChange.id.desc())).scalars())


def search(org_ids: set[int] | None, q: str = "", status: str = "", lea_code: str = "",
           page: int = 1, per_page: int = 25) -> tuple[list[StaffRecord], int]:
    """Staff records employed by (or assigned to) the given orgs, filtered and paged."""
    query = db.select(StaffRecord)
    if org_ids is not None:
        query = query.where(StaffRecord.lea_id.in_(org_ids))
    if q.strip():
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(StaffRecord.last_name).like(like),
                                func.lower(StaffRecord.first_name).like(like),
                                StaffRecord.staff_id.like(like), StaffRecord.employee_number.like(like),
                                StaffRecord.username_key.like(like)))
    if status:
        query = query.where(StaffRecord.status == status)
    if lea_code:
        query = query.join(Org, StaffRecord.lea_id == Org.id).where(Org.code == lea_code)
    total = db.session.execute(db.select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(StaffRecord.last_name, StaffRecord.first_name,
                                             StaffRecord.staff_id)
                              .limit(per_page).offset((max(page, 1) - 1) * per_page)).scalars()
    return list(rows), total


def _check_rows(rows, actor: Actor) -> tuple[list[RowError], dict[str, dict], dict[str, Org]]:
    orgs = {o.code: o for o in db.session.execute(db.select(Org)).scalars()}
    existing = {r.staff_id: r for r in db.session.execute(db.select(StaffRecord)).scalars()}
    errors: list[RowError] = []
    seen: dict[str, dict[str, int]] = {"staff_id": {}, "employee_number": {}, "username": {}}
    good: dict[str, dict] = {}
    for line, row in rows:
        key = row.get("staff_id", "")
        if "__error__" in row:
            errors.append(RowError(line, row["__error__"], key))
            continue
        problems = []
        if not STAFF_ID_RE.match(key):
            problems.append("malformed staff ID: it must be 10 digits")
        if not EMPLOYEE_NUMBER_RE.match(row["employee_number"]):
            problems.append("malformed employee number: it must be 8 digits")
        if not row["first_name"] or not row["last_name"]:
            problems.append("first_name and last_name are required")
        if row["email"] and not EMAIL_RE.match(row["email"]):
            problems.append(f"malformed e-mail address {row['email']!r}")
        if row["status"] not in STAFF_STATUSES:
            problems.append(f"unknown status {row['status']!r} (one of: {', '.join(STAFF_STATUSES)})")
        lea = orgs.get(row["lea_code"])
        if lea is None or lea.kind not in ("lea", "state"):
            problems.append(f"unknown LEA {row['lea_code']!r}")
        elif not _may_manage(actor, lea):
            problems.append(f"you do not manage the staff of {lea.code}")
        current = existing.get(key)
        if current is not None and not _may_manage(actor, current.lea):
            # moving a record out of a school system is for someone who manages that one too
            problems.append("this staff ID is on a record of a school system you do not manage")
        site_codes = [c.strip() for c in row["site_codes"].split(";") if c.strip()]
        for code in site_codes:
            site = orgs.get(code)
            if site is None or site.kind not in SITE_KINDS:
                problems.append(f"unknown site {code!r}")
            elif lea is not None and lea.kind == "lea" and not covers(lea, site):
                problems.append(f"site {code} is not in {lea.code}")
        if row["username"] and (len(row["username"]) > 150 or any(c.isspace() for c in row["username"])):
            problems.append("a username is 1 to 150 characters with no spaces")
        for name, value in (("staff_id", key), ("employee_number", row["employee_number"]),
                            ("username", username_key(row["username"]))):
            if value and value in seen[name]:
                label = {"staff_id": "staff ID", "employee_number": "employee number"}.get(name, name)
                problems.append(f"duplicate {label} in the file (also on line {seen[name][value]})")
            elif value:
                seen[name][value] = line
        if problems:
            errors.append(RowError(line, "; ".join(problems), key))
        else:
            good[key] = {**row, "line": line, "site_codes": ";".join(sorted(set(site_codes)))}
    # uniqueness against records the file does not rewrite
    final_user = {k: username_key(r.username) for k, r in existing.items() if r.username_key}
    final_emp = {k: r.employee_number for k, r in existing.items()}
    for key in good:
        final_user.pop(key, None)
        final_emp.pop(key, None)
    user_owner = {v: k for k, v in final_user.items()}
    emp_owner = {v: k for k, v in final_emp.items()}
    for key, row in good.items():
        ukey = username_key(row["username"])
        if ukey and user_owner.get(ukey, key) != key:
            errors.append(RowError(row["line"], "username already on another person's record", key))
        if emp_owner.get(row["employee_number"], key) != key:
            errors.append(RowError(row["line"], "employee number already on another person's record", key))
    return errors, good, orgs


def import_staff(data: str | bytes, actor: Actor) -> ImportResult:
    """Apply an HR file whole or not at all; report created / updated / unchanged."""
    rows = read_rows(data, STAFF_COLUMNS)
    errors, good, orgs = _check_rows(rows, actor)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line), "staff file")
    batch = uuid.uuid4().hex[:12]
    existing = {r.staff_id: r for r in db.session.execute(
        db.select(StaffRecord).where(StaffRecord.staff_id.in_(list(good)))).scalars()}
    result = ImportResult()
    befores = {key: snapshot(record) for key, record in existing.items()}
    feed: list[FieldChange] = []
    # free usernames and employee numbers that move between records in this file before
    # assigning them, so a swap or a hand-over never trips a unique constraint half-way
    for key, row in good.items():
        record = existing.get(key)
        if record is None:
            continue
        if record.username_key != username_key(row["username"]):
            record.username_key = None
        if record.employee_number != row["employee_number"]:
            record.employee_number = f"~{record.id:07x}"  # never a valid (8-digit) number
    db.session.flush()
    for key, row in good.items():
        record = existing.get(key)
        before = befores.get(key, {})
        if record is None:
            record = StaffRecord(staff_id=key, created_at=clock.now())
            db.session.add(record)
        record.employee_number = row["employee_number"]
        record.first_name, record.last_name = row["first_name"], row["last_name"]
        record.email = row["email"] or None
        record.lea = orgs[row["lea_code"]]
        record.sites = [orgs[c] for c in row["site_codes"].split(";") if c]
        record.staff_type, record.status = row["staff_type"], row["status"]
        record.username = row["username"] or None
        record.username_key = username_key(row["username"])
        db.session.flush()
        changed = _record_changes(record, before, snapshot(record), actor, batch)
        if changed:
            record.updated_at = clock.now()
            if before:
                feed += [FieldChange(record, name, old, new) for name, (old, new) in changed.items()]
            (result.updated if before else result.created).append(key)
        else:
            result.unchanged.append(key)
    result.details["batch"] = batch
    event = audit.record("staff.imported", actor.who, ("staff_import", batch), None,
                         {**result.summary(), "created": result.created, "updated": result.updated,
                          "source": actor.source})
    # the HR change feed: access follows status and assignment changes in this same transaction
    _tell_listeners(StaffImport(batch, event.seq, actor, feed), result)
    return result
