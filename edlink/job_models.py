"""The scheduler's tables: the record of every job run, and the lease that lets one scheduler act."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from edlink.extensions import db
from edlink.types import UTCDateTime

OUTCOMES = ("running", "ok", "failed")


class JobRun(db.Model):
    """One run of a scheduled job, by the scheduler or by ``edlink jobs run``.

    ``started_at`` is when it started by the clock the caller runs on; ``as_of`` the instant a
    manual run was pinned to (``--now``), if any. ``outcome`` is ``running`` until it ends (a run
    whose scheduler died stays ``running`` until another scheduler takes the lease over and marks
    it ``failed``). ``summary`` holds what the job returned (its counts); ``error`` why it failed.
    ``holder`` says who ran it: the scheduler instance holding the lease, or ``cli@host``.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        Index("ix_job_run_job_started", "job", "started_at"),
        Index("ix_job_run_started", "started_at"),
        Index("ix_job_run_outcome", "outcome"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    as_of: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(10))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str] = mapped_column(String(160))

    @property
    def duration(self) -> _dt.timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    def counts(self) -> str:
        """The summary in words: 'sent 3, failed 0'."""
        return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in (self.summary or {}).items())


class SchedulerLease(db.Model):
    """Who may run jobs: the holder, until ``expires_at`` (renewed by its heartbeat).

    One row per lease name (``scheduler``). Taken and renewed only by a conditional UPDATE
    (holder is me, or the lease ran out) or, when the row does not exist yet, an INSERT that
    does nothing on a conflict: atomic on PostgreSQL and on SQLite alike (edlink.lease).
    """

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(160))
    acquired_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
