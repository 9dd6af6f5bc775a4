"""What the job-runs page shows: each registered job with its schedule and latest run, the runs
(filtered, newest first, paged) and the scheduler lease."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func

from edlink import clock, jobs, lease
from edlink.errors import NotFound
from edlink.extensions import db
from edlink.job_models import OUTCOMES, JobRun, SchedulerLease
from edlink.schedule import Schedule, schedule_for

RECENT = _dt.timedelta(days=7)


@dataclass(frozen=True)
class JobLine:
    name: str
    schedule: Schedule
    last: JobRun | None  # the latest run, whatever its outcome
    last_ok: JobRun | None  # the latest successful run
    next_due: _dt.datetime | None  # None: off; in the past: due now
    recent_runs: int  # in the last RECENT
    recent_failures: int


def _latest(job: str, outcome: str | None = None) -> JobRun | None:
    """The job's latest run (of one outcome): one short walk down ix_job_run_job_started."""
    query = db.select(JobRun).where(JobRun.job == job)
    if outcome is not None:
        query = query.where(JobRun.outcome == outcome)
    return db.session.execute(query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).scalar()


def overview() -> list[JobLine]:
    """Every registered job, by name, with its schedule and latest runs."""
    names = jobs.names()
    since = clock.now() - RECENT
    counts = {(job, outcome): n for job, outcome, n in db.session.execute(
        db.select(JobRun.job, JobRun.outcome, func.count()).where(JobRun.started_at >= since)
        .group_by(JobRun.job, JobRun.outcome)).all()}
    lines = []
    for name in names:
        schedule = schedule_for(name, current_app.config)
        latest = _latest(name)
        last_ok = latest if latest is not None and latest.outcome == "ok" else _latest(name, "ok")
        lines.append(JobLine(name, schedule, latest, last_ok,
                             schedule.next_due(latest.started_at if latest else None),
                             sum(counts.get((name, o), 0) for o in OUTCOMES), counts.get((name, "failed"), 0)))
    return lines


def list_runs(job: str | None, outcome: str | None, page: int, per_page: int) -> tuple[list[JobRun], int]:
    """Runs, newest first, of one job and/or one outcome; one page of them and the total."""
    query = db.select(JobRun)
    if job:
        query = query.where(JobRun.job == job)
    if outcome:
        query = query.where(JobRun.outcome == outcome)
    total = db.session.execute(db.select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(JobRun.started_at.desc(), JobRun.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return rows, total


def prune(retention_days: int) -> int:
    """Forget finished runs that started more than ``retention_days`` ago (0: keep every run);
    answers how many. The caller commits."""
    if retention_days <= 0:
        return 0
    before = clock.now() - _dt.timedelta(days=retention_days)
    return db.session.execute(db.delete(JobRun).where(JobRun.started_at < before, JobRun.outcome != "running")
                              .execution_options(synchronize_session=False)).rowcount


def get_run(run_id: int) -> JobRun:
    row = db.session.get(JobRun, run_id)
    if row is None:
        raise NotFound(message=f"there is no job run {run_id}")
    return row


def lease_state() -> tuple[SchedulerLease | None, bool]:
    """The lease row and whether somebody holds it now."""
    row = lease.current()
    return row, lease.held(row)
