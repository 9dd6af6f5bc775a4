"""Reading the audit trail: filters, who may see which events, and paging by sequence number.

Who sees what (one rule for pages, the API and exports):

- holders of ``edlink.audit.read`` at the state (state auditors, state administrators): every event;
- holders of it at a school system (LEA auditors, security coordinators): events about that school
  system's orgs (the event's org is one the grant covers) and about its people (the actor, or the
  user or staff record the event is about, belongs to a staff record employed there);
- everybody: their own events (they acted, or the event is about their account).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_

from audit.models import AuditEvent
from edlink import authz, clock
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User

PERMISSION = "edlink.audit.read"
USER_TARGET = User.__tablename__
STAFF_TARGET = StaffRecord.__tablename__
MAX_LIMIT = 1000


@dataclass
class Filters:
    """What to look for. ``action`` matches exactly, or by prefix when it ends in ``*``
    (``grant.*``); ``actor`` is a username or a label such as ``system:cli``; ``target`` is
    ``type:id`` (``grant:12``) or an id alone; ``org`` an org code; ``since``/``until`` bound the
    event time (``until`` exclusive)."""

    action: str | None = None
    actor: str | None = None
    target: str | None = None
    org: str | None = None
    since: _dt.datetime | None = None
    until: _dt.datetime | None = None
    errors: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, args) -> Filters:
        """From query arguments (strings); a bad value raises ``Invalid`` naming the field."""
        found = cls()
        for name in ("action", "actor", "target", "org"):
            value = (args.get(name) or "").strip()
            setattr(found, name, value or None)
        for name in ("since", "until"):
            value = (args.get(name) or "").strip()
            if not value:
                continue
            try:
                setattr(found, name, _parse_time(value, end=(name == "until")))
            except ValueError:
                found.errors[name] = ["Give a date (YYYY-MM-DD) or an ISO 8601 time such as 2026-11-23T09:30Z."]
        if found.since and found.until and found.until <= found.since:
            found.errors["until"] = ["The end of the time range must come after its start."]
        if found.errors:
            raise Invalid("bad_filter", "Some filters are not valid: " + ", ".join(sorted(found.errors)) + ".",
                          fields=found.errors)
        return found

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments again (for links to the next page or an export)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "errors" or value is None:
                continue
            out[f.name] = clock.as_utc(value).isoformat() if isinstance(value, _dt.datetime) else value
        return out

    def active(self) -> bool:
        return any(v for k, v in self.as_args().items())


def _parse_time(text: str, *, end: bool) -> _dt.datetime:
    if len(text) == 10:  # a date: since its start, until (and including) its end
        day = _dt.date.fromisoformat(text)
        if end:
            day += _dt.timedelta(days=1)
        return _dt.datetime.combine(day, _dt.time(), tzinfo=_dt.UTC)
    return clock.parse_iso(text)


@dataclass(frozen=True)
class Scope:
    """The part of the trail a reader may see: everything, or their own events plus those of
    the orgs (and those orgs' people) where they hold the audit permission."""

    everything: bool
    user_id: int | None
    org_ids: frozenset[int] = frozenset()

    def clause(self) -> ColumnElement[bool] | None:
        if self.everything:
            return None
        own = [AuditEvent.actor_id == self.user_id,
               and_(AuditEvent.target_type == USER_TARGET, AuditEvent.target_id == str(self.user_id))]
        if not self.org_ids:
            return or_(*own)
        ids = sorted(self.org_ids)
        codes = db.select(Org.code).where(Org.id.in_(ids))
        staff_ids = db.select(StaffRecord.staff_id).where(StaffRecord.lea_id.in_(ids))
        people = (db.select(Link.user_id).join(StaffRecord, StaffRecord.id == Link.staff_record_id)
                  .where(StaffRecord.lea_id.in_(ids)))
        people_text = (db.select(db.cast(Link.user_id, db.String))
                       .join(StaffRecord, StaffRecord.id == Link.staff_record_id)
                       .where(StaffRecord.lea_id.in_(ids)))
        return or_(*own, AuditEvent.org_code.in_(codes), AuditEvent.actor_id.in_(people),
                   and_(AuditEvent.target_type == USER_TARGET, AuditEvent.target_id.in_(people_text)),
                   and_(AuditEvent.target_type == STAFF_TARGET, AuditEvent.target_id.in_(staff_ids)))


def scope_for(user: User) -> Scope:
    """What ``user`` may read of the trail (see the module documentation)."""
    ids = authz.orgs_with(PERMISSION, user)
    state = db.session.execute(db.select(Org.id).where(Org.kind == "state")).scalar()
    return Scope(everything=state is not None and state in ids, user_id=user.id, org_ids=frozenset(ids))


def _where(query, filters: Filters, scope: Scope):
    visible = scope.clause()
    if visible is not None:
        query = query.where(visible)
    if filters.action:
        if filters.action.endswith("*"):
            prefix = filters.action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditEvent.action.like(prefix + "%", escape="\\"))
        else:
            query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.target:
        kind, sep, ident = filters.target.rpartition(":")
        query = query.where(AuditEvent.target_id == ident)
        if sep:
            query = query.where(AuditEvent.target_type == kind)
    if filters.org:
        query = query.where(AuditEvent.org_code == filters.org)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    return query


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    newest_first: bool
    next_cursor: int | None  # the seq to pass as after_seq (oldest first) or before_seq (newest first)


def page_size(limit: int | None) -> int:
    default = int(current_app.config["PAGE_SIZE"])
    if limit is None:
        return default
    if limit < 1 or limit > MAX_LIMIT:
        raise Invalid("bad_limit", f"limit must be between 1 and {MAX_LIMIT}.", fields={"limit": ["out of range"]})
    return limit


def events_page(filters: Filters, scope: Scope, *, after_seq: int | None = None, before_seq: int | None = None,
                newest_first: bool = False, limit: int | None = None) -> Page:
    """One page of visible events matching ``filters``, keyset-paged by sequence number: oldest first
    after ``after_seq``, or newest first before ``before_seq``."""
    size = page_size(limit)
    query = _where(db.select(AuditEvent), filters, scope)
    if after_seq is not None:
        query = query.where(AuditEvent.seq > after_seq)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq
    rows = db.session.execute(query.order_by(order).limit(size + 1)).scalars().all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, newest_first, rows[-1].seq if more and rows else None)


def count(filters: Filters, scope: Scope) -> int:
    query = _where(db.select(db.func.count()).select_from(AuditEvent), filters, scope)
    return db.session.execute(query).scalar_one()


EXPORT_COLUMNS = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.action, AuditEvent.actor,
                  AuditEvent.actor_id, AuditEvent.target_type, AuditEvent.target_id, AuditEvent.org_code,
                  AuditEvent.details, AuditEvent.prev_hash, AuditEvent.hash)


def iter_events(filters: Filters, scope: Scope, batch: int = 5000) -> Iterator:
    """Every visible matching event, oldest first, as plain rows (attributes named like
    AuditEvent's), read ``batch`` at a time by keyset: memory stays flat however long the trail."""
    after = 0
    while True:
        query = _where(db.select(*EXPORT_COLUMNS), filters, scope).where(AuditEvent.seq > after)
        rows = db.session.execute(query.order_by(AuditEvent.seq).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def get_event(seq: int, scope: Scope) -> AuditEvent:
    """One event the reader may see; 404 (not 403) otherwise, so numbers reveal nothing."""
    query = _where(db.select(AuditEvent).where(AuditEvent.seq == seq), Filters(), scope)
    event = db.session.execute(query).scalar_one_or_none()
    if event is None:
        raise NotFound("unknown_event", f"No audit event {seq} is visible to you.")
    return event
