"""The checks of one row of a TAS file, and of the rows together (see roles/tas.py).

Each row becomes a :class:`TasRow` (skipped or rejected, with the reason) or a :class:`Good`
(what it would grant). Lookups are loaded once for the whole file by :class:`World`.
"""
from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func

from edlink import clock
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.orgs import covers
from edlink.staff import STAFF_ID_RE
from roles.catalog import Role, load
from roles.grants import LEVEL_OF_KIND
from roles.models import Grant

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")  # ISO, and the way TAS reports print dates


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
class Good:
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


class World:
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


def _place(world: World, code: str, role: Role) -> tuple[Org | None, list[str]]:
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


def _person(world: World, username: str, staff_id: str) -> tuple[User | None, StaffRecord | None, list[str]]:
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


def check_row(world: World, line: int, row: dict[str, str], today: _dt.date, zone: ZoneInfo
           ) -> TasRow | Good:
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
    good = Good(line, user, role, org, _day_start(granted_on, zone), ends_at, code)
    good.note = (f"{user.username} (staff ID {record.staff_id}): {role.name} ({role.code}) at {org.code}, "
                 f"from {granted_on} {'until ' + str(expires_on) if expires_on else 'with no end date'}"
                 f"{note} (TAS {code})")
    return good


def skip_existing(world: World, outcomes: list[TasRow | Good]) -> None:
    """Skip repeats inside the file and what EdLink already holds (or deliberately took away)."""
    seen: dict[tuple[int, str, int], int] = {}
    for i, o in enumerate(outcomes):
        if not isinstance(o, Good):
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


def check_holder_limits(outcomes: list[TasRow | Good]) -> None:
    """Reject rows that would give a school system more holders of a limited role than allowed."""
    limited = {o.role.code: o.role for o in outcomes if isinstance(o, Good) and o.role.max_holders_per_lea}
    for code, role in limited.items():
        holders: dict[int, set[int]] = defaultdict(set)
        for grant in db.session.execute(db.select(Grant).where(
                Grant.role_code == code, Grant.status == "active")).scalars():
            lea = grant.org.lea
            if lea is not None:
                holders[lea.id].add(grant.user_id)
        for i, o in enumerate(outcomes):
            if not isinstance(o, Good) or o.role.code != code or o.org.lea is None:
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
