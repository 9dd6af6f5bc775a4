"""Carrying legacy TAS grants over at go-live (``edlink tas import FILE.csv [--dry-run]``).

The file is a TAS "User Report by Application":
``username,staff_id,sponsor_code,application,tas_role,granted_on,expires_on``. Every row gets
one outcome with its reason: imported, skipped (expired in TAS, already granted, a duplicate,
revoked or suspended here) or rejected (what is wrong with it). One rejected row refuses the
whole file: nothing is written, and every rejected row is named with its line. A dry run checks
and reports the same way and writes nothing.

A row is carried over when its TAS role code maps through the catalog to a role of the row's
application; ``sponsor_code`` is an org the role may be granted at (the state, an LEA or a
school), inside the person's school system; the username belongs to an account that is linked
to the staff record with ``staff_id``, whose HR status is active.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func

import audit
from edlink import clock
from edlink.csvio import ImportRejected, RowError, read_rows
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.orgs import covers, state_org
from edlink.staff import STAFF_ID_RE
from roles.catalog import Role, load
from roles.grants import LEVEL_OF_KIND, create_grant
from roles.models import Grant

TAS_COLUMNS = ["username", "staff_id", "sponsor_code", "application", "tas_role", "granted_on",
               "expires_on"]
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")  # ISO, and the way TAS reports print dates
OUTCOME_WORDS = {"imported": "imported", "skipped": "skipped", "rejected": "rejected",
                 "held": "not imported"}


@dataclass
class TasRow:
    """One row's outcome: imported | skipped | rejected | held (a good row of a refused file)."""

    line: int
    outcome: str
    reason: str
    username: str = ""
    role: str | None = None
    org: str | None = None
    kind: str = ""  # why a row was skipped: expired, duplicate, already_granted, revoked, suspended

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "outcome": self.outcome, "reason": self.reason,
                "username": self.username, "role": self.role, "org": self.org}


@dataclass
class TasResult:
    rows: list[TasRow] = field(default_factory=list)
    dry_run: bool = False
    applied: bool = False
    batch: str = ""

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def summary(self) -> dict[str, int]:
        return {"imported": self.count("imported"), "skipped": self.count("skipped"),
                "rejected": self.count("rejected")}

    def lines(self) -> list[str]:
        return [f"line {r.line}: {OUTCOME_WORDS[r.outcome]} — {r.reason}" for r in self.rows]

    def summary_line(self) -> str:
        s = self.summary()
        text = f"imported {s['imported']}, skipped {s['skipped']}, rejected {s['rejected']}"
        if self.count("held"):
            text += f" ({self.count('held')} good row(s) not imported: the file has rejected rows)"
        if self.dry_run:
            text += " — dry run: nothing was changed"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "dry_run": self.dry_run, "applied": self.applied,
                "rows": [r.as_dict() for r in self.rows]}


class TasRejected(ImportRejected):
    """The TAS file was refused; ``result`` holds every row's outcome, ``errors`` the rejected ones."""

    def __init__(self, result: TasResult):
        self.result = result
        super().__init__([RowError(r.line, r.reason, r.username) for r in result.rows
                          if r.outcome == "rejected"], "TAS file")
        if result.dry_run:
            self.message = "Dry run: " + self.message.replace("was not imported", "would be refused", 1)


@dataclass
class _Good:
    """A row that passed every check and is not expired: what it would grant."""

    line: int
    user: User
    role: Role
    org: Org
    starts_at: _dt.datetime
    ends_at: _dt.datetime | None
    tas_code: str
    note: str = ""


def _parse_date(text: str) -> _dt.date:
    for fmt in DATE_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _chunks(values, size: int = 500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _World:
    """What the rows refer to, loaded in a few queries rather than several per row."""

    def __init__(self, rows: list[tuple[int, dict[str, str]]]):
        catalog = load()
        self.catalog = catalog
        self.tas = {code.upper(): role for role in catalog.roles.values() for code in role.tas_codes}
        self.orgs = {o.code: o for o in db.session.execute(db.select(Org)).scalars()}
        keys = {r.get("username", "").strip().lower() for _, r in rows} - {""}
        ids = {r.get("staff_id", "") for _, r in rows} - {""}
        self.users: dict[str, list[User]] = defaultdict(list)
        for chunk in _chunks(keys):
            for user in db.session.execute(db.select(User).where(
                    func.lower(User.username).in_(chunk)).order_by(User.id)).scalars():
                self.users[user.username.strip().lower()].append(user)
        self.records: dict[str, StaffRecord] = {}
        for chunk in _chunks(ids):
            self.records.update((r.staff_id, r) for r in db.session.execute(
                db.select(StaffRecord).where(StaffRecord.staff_id.in_(chunk))).scalars())
        user_ids = [u.id for users in self.users.values() for u in users]
        record_ids = [r.id for r in self.records.values()]
        self.link_of_user: dict[int, Link] = {}
        self.link_of_record: dict[int, Link] = {}
        for chunk in _chunks(user_ids):
            self._add_links(Link.user_id.in_(chunk))
        for chunk in _chunks(record_ids):
            self._add_links(Link.staff_record_id.in_(chunk))
        self.grants: dict[tuple[int, str, int], list[Grant]] = defaultdict(list)
        for chunk in _chunks(user_ids):
            for grant in db.session.execute(db.select(Grant).where(
                    Grant.user_id.in_(chunk), Grant.status.in_(("active", "suspended", "revoked")))
                    ).scalars():
                self.grants[(grant.user_id, grant.role_code, grant.org_id)].append(grant)

    def _add_links(self, condition) -> None:
        for link in db.session.execute(db.select(Link).where(condition, Link.ended_at.is_(None))).scalars():
            self.link_of_user[link.user_id] = link
            self.link_of_record[link.staff_record_id] = link

    def application_matches(self, text: str, role: Role) -> bool:
        wanted = text.strip().lower()
        app = self.catalog.applications.get(role.application, {})
        return wanted in (role.application.lower(), str(app.get("name", "")).strip().lower())


def _day_start(day: _dt.date, zone: ZoneInfo) -> _dt.datetime:
    """Local midnight at the start of ``day`` in the state's time zone, in UTC."""
    return _dt.datetime.combine(day, _dt.time(), tzinfo=zone).astimezone(_dt.UTC)


def _dates(row: dict[str, str], today: _dt.date) -> tuple[_dt.date | None, _dt.date | None, list[str]]:
    problems: list[str] = []
    parsed: dict[str, _dt.date | None] = {"granted_on": None, "expires_on": None}
    for name in parsed:
        text = row.get(name, "")
        if not text:
            if name == "granted_on":
                problems.append("granted_on is empty")
            continue
        try:
            parsed[name] = _parse_date(text)
        except ValueError:
            problems.append(f"{name} {text!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")
    granted_on, expires_on = parsed["granted_on"], parsed["expires_on"]
    if granted_on and granted_on > today:
        problems.append(f"granted_on {granted_on} is in the future")
    if granted_on and expires_on and expires_on < granted_on:
        problems.append(f"expires_on {expires_on} is before granted_on {granted_on}")
    return granted_on, expires_on, problems


def _place(world: _World, code: str, role: Role) -> tuple[Org | None, list[str]]:
    if not code:
        return None, ["sponsor_code is empty"]
    org = world.orgs.get(code)
    if org is None:
        return None, [f"unknown sponsor_code {code!r}"]
    if not org.active:
        return None, [f"sponsor_code {code} is an inactive organisation"]
    if org.kind in ("nonpublic", "early_childhood"):
        lea = org.lea
        what = "a nonpublic school" if org.kind == "nonpublic" else "an early-childhood centre"
        return None, [f"sponsor_code {code} is {what}: access there comes with the school system that "
                      f"serves it ({lea.code if lea else 'none'}); grant at that school system instead"]
    if LEVEL_OF_KIND[org.kind] not in role.scope:
        return None, [f"{role.name} ({role.code}) is granted at {' or '.join(role.scope)} level, "
                      f"not at {code} (a {org.kind})"]
    return org, []


def _person(world: _World, username: str, staff_id: str) -> tuple[User | None, StaffRecord | None, list[str]]:
    """The account named ``username`` that is linked to the staff record ``staff_id``."""
    problems: list[str] = []
    users = world.users.get(username.lower(), []) if username else []
    record = world.records.get(staff_id) if staff_id else None
    if not username:
        problems.append("username is empty")
    elif not users:
        problems.append(f"unknown username {username!r}")
    if not staff_id:
        problems.append("staff_id is empty")
    elif record is None:
        problems.append(f"unknown staff ID {staff_id!r}" if STAFF_ID_RE.match(staff_id)
                        else f"malformed staff ID {staff_id!r}: it must be 10 digits")
    if problems:
        return None, None, problems
    link = world.link_of_record.get(record.id)
    user = next((u for u in users if link is not None and link.user_id == u.id), None)
    if user is None:
        own = [world.link_of_user[u.id] for u in users if u.id in world.link_of_user]
        if own:
            problems.append(f"{username} is linked to staff ID {own[0].staff_record.staff_id}, not {staff_id}")
        if link is not None:
            problems.append(f"staff ID {staff_id} is linked to another account ({link.user.username})")
        if not own and link is None:
            problems.append(f"{username} is not linked to staff ID {staff_id} (not linked to any staff "
                            "record yet): the person links their account first")
        return None, record, problems
    if user.disabled:
        problems.append(f"the account {username} is disabled")
    if record.status != "active":
        problems.append(f"staff record {staff_id} is {record.status} in HR, not active")
    return user, record, problems


def _check(world: _World, line: int, row: dict[str, str], today: _dt.date, zone: ZoneInfo
           ) -> TasRow | _Good:
    username = row.get("username", "")
    if "__error__" in row:
        return TasRow(line, "rejected", row["__error__"], username)
    problems: list[str] = []
    code = row["tas_role"].upper()
    role = world.tas.get(code)
    if not code:
        problems.append("tas_role is empty")
    elif role is None:
        problems.append(f"unknown TAS role code {row['tas_role']!r}: the catalog maps no role to it")
    elif not row["application"]:
        problems.append("application is empty")
    elif not world.application_matches(row["application"], role):
        problems.append(f"application {row['application']!r} does not match TAS role {code}, which is "
                        f"{role.name} ({role.code}) of application {role.application}")
    granted_on, expires_on, date_problems = _dates(row, today)
    problems += date_problems
    if problems:
        return TasRow(line, "rejected", "; ".join(problems), username, role.code if role else None,
                      row["sponsor_code"] or None)
    if expires_on is not None and expires_on < today:
        # not carried over, so whether the person or the place still exists does not matter
        return TasRow(line, "skipped", f"expired in TAS on {expires_on}", username, role.code,
                      row["sponsor_code"] or None, kind="expired")
    org, problems = _place(world, row["sponsor_code"], role)
    user, record, person_problems = _person(world, username, row["staff_id"])
    problems += person_problems
    if org is not None and record is not None and record.lea.kind != "state" and not covers(record.lea, org):
        problems.append(f"{org.code} is outside the school system of staff ID {record.staff_id} "
                        f"({record.lea.code})")
    if problems:
        return TasRow(line, "rejected", "; ".join(problems), username, role.code, row["sponsor_code"] or None)
    ends_at = _day_start(expires_on + _dt.timedelta(days=1), zone) if expires_on else None
    note = ""
    if role.max_days:
        latest = clock.now() + _dt.timedelta(days=role.max_days)
        if ends_at is None or ends_at > latest:
            ends_at = latest
            note = f" (cut to {role.name}'s longest term, {role.max_days} days: until {latest.date()})"
    good = _Good(line, user, role, org, _day_start(granted_on, zone), ends_at, code)
    good.note = (f"{user.username} (staff ID {record.staff_id}): {role.name} ({role.code}) at {org.code}, "
                 f"from {granted_on} {'until ' + str(expires_on) if expires_on else 'with no end date'}"
                 f"{note} (TAS {code})")
    return good


def _skip_existing(world: _World, outcomes: list[TasRow | _Good]) -> None:
    """Skip repeats inside the file and what EdLink already holds (or deliberately took away)."""
    seen: dict[tuple[int, str, int], int] = {}
    for i, o in enumerate(outcomes):
        if not isinstance(o, _Good):
            continue
        key = (o.user.id, o.role.code, o.org.id)
        base = (o.line, "skipped")
        rest = (o.user.username, o.role.code, o.org.code)
        if key in seen:
            outcomes[i] = TasRow(*base, f"duplicate of line {seen[key]} (same person, role and place)",
                                 *rest, kind="duplicate")
            continue
        seen[key] = o.line
        held = {g.status: g for g in sorted(world.grants.get(key, []), key=lambda g: g.id)}
        if "active" in held:
            g = held["active"]
            outcomes[i] = TasRow(*base, f"already granted: {o.user.username} holds {o.role.code} at "
                                 f"{o.org.code} (grant {g.id}, source {g.source})", *rest, kind="already_granted")
        elif "suspended" in held:
            outcomes[i] = TasRow(*base, f"suspended in EdLink (grant {held['suspended'].id}): restore it "
                                 "there if the access should return", *rest, kind="suspended")
        elif "revoked" in held:
            g = held["revoked"]
            when = f" on {g.revoked_at.date()}" if g.revoked_at else ""
            outcomes[i] = TasRow(*base, f"revoked in EdLink{when} (grant {g.id}): not carried over again",
                                 *rest, kind="revoked")


def _check_holder_limits(outcomes: list[TasRow | _Good]) -> None:
    """Reject rows that would give a school system more holders of a limited role than allowed."""
    limited = {o.role.code: o.role for o in outcomes if isinstance(o, _Good) and o.role.max_holders_per_lea}
    for code, role in limited.items():
        holders: dict[int, set[int]] = defaultdict(set)
        for grant in db.session.execute(db.select(Grant).where(
                Grant.role_code == code, Grant.status == "active")).scalars():
            lea = grant.org.lea
            if lea is not None:
                holders[lea.id].add(grant.user_id)
        for i, o in enumerate(outcomes):
            if not isinstance(o, _Good) or o.role.code != code or o.org.lea is None:
                continue
            lea, limit = o.org.lea, role.max_holders_per_lea
            if o.user.id in holders[lea.id]:
                continue
            if len(holders[lea.id]) >= limit:
                outcomes[i] = TasRow(o.line, "rejected", f"{lea.code} may have at most {limit} {role.name} "
                                     f"holders, and {len(holders[lea.id])} already hold it or come earlier "
                                     "in the file", o.user.username, code, o.org.code)
            else:
                holders[lea.id].add(o.user.id)


def import_tas(data: str | bytes, *, dry_run: bool = False, actor: Any = "system:cli") -> TasResult:
    """Carry a TAS "User Report by Application" over: whole or not at all, a report per row.

    Raises :class:`TasRejected` (nothing written) when any row is rejected. With ``dry_run``
    nothing is written either way. Grants and events are flushed into the caller's transaction,
    which commits them.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    rows = read_rows(data, TAS_COLUMNS, required=TAS_COLUMNS[:-1])
    zone = ZoneInfo(str(current_app.config["TIMEZONE"]))
    today = clock.now().astimezone(zone).date()
    world = _World(rows)
    outcomes = [_check(world, line, row, today, zone) for line, row in rows]
    _skip_existing(world, outcomes)
    _check_holder_limits(outcomes)
    refused = any(isinstance(o, TasRow) and o.outcome == "rejected" for o in outcomes)
    result = TasResult(dry_run=dry_run)
    for o in outcomes:
        if isinstance(o, TasRow):
            result.rows.append(o)
        elif refused:
            result.rows.append(TasRow(o.line, "held", "the file has rejected rows; this one would import "
                                      + o.note, o.user.username, o.role.code, o.org.code))
        else:
            result.rows.append(TasRow(o.line, "imported", o.note, o.user.username, o.role.code, o.org.code))
    if refused:
        raise TasRejected(result)
    if dry_run:
        return result
    result.batch = uuid.uuid4().hex[:12]
    for o in outcomes:
        if isinstance(o, _Good):
            create_grant(o.user, o.role.code, o.org, source="tas_import", granted_by=None, actor=actor,
                         starts_at=o.starts_at, ends_at=o.ends_at)
    audit.record("tas.imported", actor, ("tas_import", result.batch), state_org(),
                 {**result.summary(), "rows": len(rows),
                  "skipped_by_reason": dict(Counter(r.kind for r in result.rows if r.outcome == "skipped")),
                  "file_sha256": hashlib.sha256(raw).hexdigest()})
    result.applied = True
    return result
