"""Point-in-time access, from history (audit.reports.history), not from today's state.

- "Who could do permission P at org O at time T" (``access-at``): every person who then held,
  in force, a role giving P at O or at an org covering O then (its LEA, the state), and whom the
  gate would have let use it (linked, staff record active).
- "What could person X do at time T" (``access-at-person``): each of X's grants that existed
  then — its status then, whether it was in force, why not, and the permissions it gave.

``at`` is an ISO date-time (UTC when it has no offset) or a date (its first instant, UTC); it
may not be in the future. Scope: O must be in the reader's report scope; for a person, only
their grants at orgs in the reader's scope are listed.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping

from sqlalchemy import or_, select

from audit.reports import history
from audit.reports.registry import Field, Prepared, ReportKind, text_arg
from audit.reports.scope import allowed_org_ids, report_scope
from edlink import clock
from edlink.errors import Forbidden, Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, StaffRecord, User

WHO_COLUMNS = ("Username", "Last Name", "First Name", "Employee Number", "Role", "Granted At", "Granted At Name",
               "Covers Because", "Granted On", "Ends", "Grant")
WHAT_COLUMNS = ("Role", "Org Code", "Org Name", "Status Then", "In Force", "Why Not", "Permissions", "Granted On",
                "Ends", "Grant")
SOURCE_NOTE = {"tas_import": " (from TAS)"}


def permission_choices() -> list[tuple[str, str]]:
    from roles.catalog import load
    return [(code, f"{code} ({text})" if text else code) for code, text in sorted(load().permissions.items())]


def parse_at(args: Mapping[str, str]) -> _dt.datetime:
    raw = text_arg(args, "at")
    if raw is None:
        raise Invalid("bad_filter", "Say when: at is an ISO date or date-time.", fields={"at": ["required"]})
    try:
        if len(raw) == 10:
            at = _dt.datetime.combine(_dt.date.fromisoformat(raw), _dt.time(), tzinfo=_dt.UTC)
        else:
            # a "+01:00" offset left unescaped in a URL arrives as " 01:00"
            raw = re.sub(r"(\d) (\d\d:?\d\d)$", r"\1+\2", raw)
            at = _dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("bad_filter", f"at must be an ISO date or date-time, not {raw!r}.",
                      fields={"at": ["not a date or time"]}) from None
    at = clock.as_utc(at)
    if at > clock.now():
        raise Invalid("bad_filter", "at is in the future: this report answers for the past and the present.",
                      fields={"at": ["in the future"]})
    return at


def parse_who(args: Mapping[str, str]) -> dict:
    from roles.catalog import load
    permission, org = text_arg(args, "permission"), text_arg(args, "org")
    problems = {k: ["required"] for k, v in (("permission", permission), ("org", org)) if v is None}
    if problems:
        raise Invalid("bad_filter", "permission and org are both needed.", fields=problems)
    if permission not in load().permissions:
        raise Invalid("bad_filter", f"{permission!r} is not a permission in the catalog.",
                      fields={"permission": ["unknown permission"]})
    return {"permission": permission, "org": org, "at": parse_at(args).isoformat()}


def _candidates(at: _dt.datetime, roles: set[str], org_ids: set[int] | None = None, user_id: int | None = None):
    from roles.models import Grant
    q = (select(Grant).where(Grant.starts_at <= at, or_(Grant.ends_at.is_(None), Grant.ends_at > at))
         .order_by(Grant.id))
    if roles is not None:
        q = q.where(Grant.role_code.in_(sorted(roles)))
    if org_ids is not None:
        q = q.where(Grant.org_id.in_(sorted(org_ids)))
    if user_id is not None:
        q = q.where(Grant.user_id == user_id)
    return list(db.session.execute(q).scalars())


def prepare_who(user: User, params: dict) -> Prepared:
    from roles.catalog import load
    ids, label = report_scope(user, params["org"])
    at = _dt.datetime.fromisoformat(params["at"])
    tree = history.tree_at(at)
    target = tree.by_code[params["org"]]
    if tree.kind.get(target) == "absent":
        return Prepared(scope=f"{label}, at {at:%Y-%m-%d %H:%M} UTC (the org did not exist then)", count=0,
                        rows=[], org=params["org"])
    perms = history.role_perms_at(at)
    roles = {code for code, p in perms.items() if params["permission"] in p}
    covering = tree.covering(target)
    grants = _candidates(at, roles, set(covering))
    status = history.grant_status_at(grants, at)
    people = history.people_at({g.user_id for g in grants}, at)
    catalog = load()
    rows = []
    for g in grants:
        record, blocked = people[g.user_id]
        if status[g.id] != "active" or blocked is not None:
            continue
        rows.append((g.user.username, record.last_name if record else "", record.first_name if record else "",
                     record.employee_number if record else "", catalog.name_of(g.role_code), tree.code[g.org_id],
                     tree.name[g.org_id], covering[g.org_id], g.starts_at, g.ends_at,
                     f"{g.id}{SOURCE_NOTE.get(g.source, '')}", g.role_code))
    rows.sort(key=lambda r: (r[1], r[2], r[0], r[4], r[5]))
    return Prepared(scope=f"{params['permission']} at {label}, at {at:%Y-%m-%d %H:%M} UTC", count=len(rows),
                    rows=rows, org=params["org"])


def _find_person(params: dict) -> User:
    value = params["user"]
    person = db.session.execute(select(User).where(User.username == value)).scalars().first()
    if person is None:  # an employee number: whoever was linked to it at the time
        at = _dt.datetime.fromisoformat(params["at"])
        person = db.session.execute(select(User).join(Link, Link.user_id == User.id)
                                    .join(StaffRecord, StaffRecord.id == Link.staff_record_id)
                                    .where(StaffRecord.employee_number == value, Link.created_at <= at,
                                           or_(Link.ended_at.is_(None), Link.ended_at > at))).scalars().first()
    if person is None:
        raise NotFound("unknown_user", f"No one has the username or employee number {value!r} (then).")
    return person


def parse_what(args: Mapping[str, str]) -> dict:
    person = text_arg(args, "user")
    if person is None:
        raise Invalid("bad_filter", "user (a username or employee number) is needed.", fields={"user": ["required"]})
    return {"user": person, "at": parse_at(args).isoformat()}


def prepare_what(user: User, params: dict) -> Prepared:
    from roles.catalog import load
    from roles.models import Grant
    allowed = allowed_org_ids(user)
    if not allowed:
        raise Forbidden("forbidden", "Reports are for security coordinators, auditors and state administrators.")
    at = _dt.datetime.fromisoformat(params["at"])
    person = _find_person(params)
    grants = [g for g in db.session.execute(select(Grant).where(
        Grant.user_id == person.id, Grant.starts_at <= at, Grant.org_id.in_(sorted(allowed))).order_by(Grant.id))
        .scalars()]
    status = history.grant_status_at(grants, at)
    _record, blocked = history.people_at({person.id}, at)[person.id]
    perms = history.role_perms_at(at)
    tree = history.tree_at(at)
    catalog = load()
    rows = []
    for g in grants:
        then = status[g.id]
        if then in ("revoked", "expired"):
            continue  # ended before T (its end is its last status event)
        if g.ends_at is not None and g.ends_at <= at:
            continue
        why = "suspended then" if then == "suspended" else (blocked or "")
        rows.append((catalog.name_of(g.role_code), tree.code[g.org_id], tree.name[g.org_id], then.capitalize(),
                     "No" if why else "Yes", why, "; ".join(sorted(perms.get(g.role_code, ()))), g.starts_at,
                     g.ends_at, f"{g.id}{SOURCE_NOTE.get(g.source, '')}", g.role_code))
    rows.sort(key=lambda r: (r[1], r[0]))
    return Prepared(scope=f"{person.username}, at {at:%Y-%m-%d %H:%M} UTC", count=len(rows), rows=rows)


WHO_KIND = ReportKind(
    code="access-at", title="Who could do it, then", columns=WHO_COLUMNS, extras=("role",),
    parse=parse_who, prepare=prepare_who, date_columns=frozenset({"Granted On", "Ends"}),
    widths={"Granted At Name": 30, "Covers Because": 30, "Role": 26},
    fields=(Field("permission", "Permission", "select", required=True, choices=permission_choices),
            Field("org", "Organisation code", required=True),
            Field("at", "At (UTC)", "datetime", required=True, help="A date, or a date and time, in UTC.")),
    description="Who could use a permission at an organisation at a past instant, rebuilt from the grants' "
                "history and the audit trail (suspensions, revocations, moves) — not from today's state.")

WHAT_KIND = ReportKind(
    code="access-at-person", title="What they could do, then", columns=WHAT_COLUMNS, extras=("role",),
    parse=parse_what, prepare=prepare_what, date_columns=frozenset({"Granted On", "Ends"}),
    widths={"Org Name": 30, "Permissions": 40, "Role": 26},
    fields=(Field("user", "Username or employee number", required=True),
            Field("at", "At (UTC)", "datetime", required=True, help="A date, or a date and time, in UTC.")),
    description="Every role a person held at a past instant: whether it was in force then and what it gave.")
