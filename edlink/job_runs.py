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


def _latest(where=None) -> dict[str, JobRun]:
    newest = db.select(func.max(JobRun.id)).group_by(JobRun.job)
    if where is not None:
        newest = newest.where(where)
    rows = db.session.execute(db.select(JobRun).where(JobRun.id.in_(newest))).scalars()
    return {row.job: row for row in rows}


def overview() -> list[JobLine]:
    """Every registered job, by name, with its schedule and latest runs."""
    names = jobs.names()
    last, last_ok = _latest(), _latest(JobRun.outcome == "ok")
    since = clock.now() - RECENT
    counts = {(job, outcome): n for job, outcome, n in db.session.execute(
        db.select(JobRun.job, JobRun.outcome, func.count()).where(JobRun.started_at >= since)
        .group_by(JobRun.job, JobRun.outcome)).all()}
    lines = []
    for name in names:
        schedule = schedule_for(name, current_app.config)
        latest = last.get(name)
        lines.append(JobLine(name, schedule, latest, last_ok.get(name),
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


def job_names() -> list[str]:
    """Registered jobs and any others that left runs behind (for the filter)."""
    recorded = db.session.execute(db.select(JobRun.job).distinct()).scalars().all()
    return sorted(set(jobs.names()) | set(recorded))


def get_run(run_id: int) -> JobRun:
    row = db.session.get(JobRun, run_id)
    if row is None:
        raise NotFound(message=f"there is no job run {run_id}")
    return row


def lease_state() -> tuple[SchedulerLease | None, bool]:
    """The lease row and whether somebody holds it now."""
    row = lease.current()
    return row, lease.held(row)
