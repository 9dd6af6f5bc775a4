"""The scheduler lease: at most one scheduler acts at a time, however many are started.

A lease is a row of ``scheduler_lease`` naming its holder and when its hold ends. An instance
takes it, or renews it, with one conditional UPDATE: set me as the holder until now + the lease
time, where the holder is already me, or nobody, or the hold has ended. PostgreSQL locks the row
for the UPDATE and re-checks the condition on the row as the previous writer left it, so of two
instances racing for an ended lease exactly one gets a row back; SQLite has a single writer.
The first instance ever finds no row: it INSERTs one, doing nothing on a conflict (another
instance inserted it first), so again exactly one wins.

Time comes from edlink.clock. Each call is its own transaction (commits or rolls back), so call
it from an app context that holds nothing else uncommitted (the scheduler pushes its own).
"""
from __future__ import annotations

import datetime as _dt
import logging

from sqlalchemy import and_, case, literal, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from edlink import clock
from edlink.extensions import db
from edlink.job_models import JobRun, SchedulerLease
from edlink.types import UTCDateTime

NAME = "scheduler"
log = logging.getLogger(__name__)


def _insert(values: dict) -> bool:
    """INSERT the lease row unless one exists; True when this statement inserted it. (Answered by
    RETURNING: with ON CONFLICT DO NOTHING the driver's rowcount is not reliable.)"""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (insert(SchedulerLease).values(**values).on_conflict_do_nothing(index_elements=["name"])
                 .returning(SchedulerLease.name))
    return db.session.execute(statement).first() is not None


def acquire(holder: str, seconds: int, name: str = NAME) -> bool:
    """Take or renew the lease for ``holder``; True when it holds the lease for ``seconds`` more."""
    now = clock.now()
    until = now + _dt.timedelta(seconds=seconds)
    try:
        before = db.session.execute(db.select(SchedulerLease.holder, SchedulerLease.expires_at)
                                    .where(SchedulerLease.name == name)).one_or_none()
        taken = db.session.execute(
            db.update(SchedulerLease)
            .where(SchedulerLease.name == name,
                   or_(SchedulerLease.holder == holder, SchedulerLease.holder.is_(None),
                       SchedulerLease.expires_at.is_(None), SchedulerLease.expires_at <= now))
            .values(holder=holder, heartbeat_at=now, expires_at=until,
                    acquired_at=case((and_(SchedulerLease.holder == holder, SchedulerLease.expires_at > now),
                                      SchedulerLease.acquired_at),  # held without a break: since then
                                     else_=literal(now, UTCDateTime())))
            .returning(SchedulerLease.name)
            .execution_options(synchronize_session=False)).first() is not None
        if not taken and before is None:
            taken = _insert({"name": name, "holder": holder, "acquired_at": now, "heartbeat_at": now,
                             "expires_at": until})
        if taken and before is not None and before.holder not in (None, holder):
            _abandon(before.holder, holder, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if taken and before is not None and before.holder not in (None, holder):
        log.info("scheduler lease %r taken over by %s from %s", name, holder, before.holder)
    return bool(taken)


def _abandon(previous: str, holder: str, now: _dt.datetime) -> None:
    """Runs the previous holder left 'running' will never finish: say so."""
    db.session.execute(db.update(JobRun).where(JobRun.holder == previous, JobRun.outcome == "running").values(
        outcome="failed", finished_at=now,
        error=f"abandoned: the scheduler {previous} stopped renewing its lease while this ran; "
              f"{holder} took the lease over").execution_options(synchronize_session=False))


def release(holder: str, name: str = NAME) -> bool:
    """End ``holder``'s hold now (a scheduler stopping cleanly), so another may take over at once."""
    now = clock.now()
    try:
        released = db.session.execute(
            db.update(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
            .values(expires_at=now, heartbeat_at=now).returning(SchedulerLease.name)
            .execution_options(synchronize_session=False)).first() is not None
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return bool(released)


def current(name: str = NAME) -> SchedulerLease | None:
    """The lease row as it is now (None before any scheduler started)."""
    return db.session.get(SchedulerLease, name)


def held(lease: SchedulerLease | None, now: _dt.datetime | None = None) -> bool:
    """Is somebody holding ``lease`` at ``now``?"""
    now = now or clock.now()
    return lease is not None and lease.holder is not None and lease.expires_at is not None and lease.expires_at > now
