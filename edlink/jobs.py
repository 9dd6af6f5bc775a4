"""Named scheduled jobs: packages register callables, ``run(name)`` runs one once and records it.

A job is a function taking no arguments that does its work in the current app context and
returns a short summary (a dict of counts, or a string). ``run`` is the job boundary: it commits
when the job returns and rolls back when it raises. ``now`` pins :mod:`edlink.clock` for the run,
so a job can be run "as of" an instant (``edlink jobs run NAME --now ISO``). Jobs must be
idempotent: the scheduler (edlink.scheduler) runs them on an interval, and a manual run may
overlap a scheduled one.

Every run is recorded in ``job_run``: a row marked ``running`` is committed before the job
starts, and its outcome (``ok`` with the summary, or ``failed`` with the error) after it ends.
A job that did its work but must report a failure (``audit.verify`` finding a broken trail,
after alerting) returns :func:`failed`: its work is committed, the run is recorded as failed,
and ``run`` then raises :class:`JobFailed`.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from edlink import clock
from edlink.errors import DomainError, NotFound
from edlink.extensions import db
from edlink.job_models import JobRun

JOBS_KEY = "edlink.jobs"

Job = Callable[[], Any]
log = logging.getLogger(__name__)


class UnknownJob(NotFound):
    code = "unknown_job"


class JobFailed(DomainError):
    """The job finished its work but reports a failure (the run is recorded as failed)."""

    code = "job_failed"

    def __init__(self, message: str, summary: dict[str, Any]):
        super().__init__(message=message)
        self.summary = summary


@dataclass(frozen=True)
class Failed:
    """What a job returns to say "done, but this is a failure": see :func:`failed`."""

    message: str
    summary: dict[str, Any] = field(default_factory=dict)


def failed(message: str, summary: dict[str, Any] | None = None) -> Failed:
    """Return this from a job whose work must be kept (committed) while its run counts as failed."""
    return Failed(message, dict(summary or {}))


def register(app: Flask, name: str, func: Job) -> None:
    """Make ``func`` runnable as ``name`` (e.g. ``notifications.dispatch``) in this app."""
    jobs = app.extensions.setdefault(JOBS_KEY, {})
    if name in jobs and jobs[name] is not func:
        raise ValueError(f"job {name!r} is registered twice")
    jobs[name] = func


def names(app: Flask | None = None) -> list[str]:
    return sorted((app or current_app).extensions.get(JOBS_KEY, {}))


def get(name: str) -> Job:
    func = current_app.extensions.get(JOBS_KEY, {}).get(name)
    if func is None:
        known = ", ".join(names()) or "none"
        raise UnknownJob(message=f"unknown job {name!r} (known jobs: {known})")
    return func


def manual_holder() -> str:
    """Who a run by hand is recorded as: ``cli@host:pid``."""
    return f"cli@{socket.gethostname()}:{os.getpid()}"


def _summary(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if not isinstance(result, dict):
        result = {"result": result}
    return json.loads(json.dumps(result, default=str))


def _start(name: str, holder: str, as_of: _dt.datetime | None) -> int:
    run_row = JobRun(job=name, started_at=clock.now(), as_of=as_of, outcome="running", summary={},
                     holder=holder[:160])
    db.session.add(run_row)
    db.session.commit()
    return run_row.id


def _finish(run_id: int, outcome: str, summary: dict[str, Any], error: str | None) -> None:
    db.session.execute(db.update(JobRun).where(JobRun.id == run_id).values(
        finished_at=clock.now(), outcome=outcome, summary=summary, error=error)
        .execution_options(synchronize_session=False))
    db.session.commit()


def run(name: str, now: _dt.datetime | None = None, *, holder: str | None = None) -> Any:
    """Run the job ``name`` once, as of ``now`` when given; commit its work, or roll it back.

    The run is recorded (job_run) under ``holder`` (default: this process, as a manual run); the
    start is committed before the job runs, so call it with nothing else pending in the session.
    Answers what the job returned; raises what it raised, or JobFailed when it returned failed().
    """
    func = get(name)
    holder = holder or manual_holder()
    run_id = _start(name, holder, None if now is None else clock.as_utc(now))
    try:
        if now is None:
            result = func()
        else:
            with clock.frozen(now):
                result = func()
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        try:
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if not isinstance(exc, DomainError):
                error += "\n\n" + "".join(traceback.format_exception(exc)).strip()
            _finish(run_id, "failed", {}, error)
        except Exception:  # the database itself may be why the job failed: keep the first error
            db.session.rollback()
            log.exception("job %s: could not record its failure", name)
        raise
    if isinstance(result, Failed):
        _finish(run_id, "failed", _summary(result.summary), result.message)
        raise JobFailed(result.message, result.summary)
    _finish(run_id, "ok", _summary(result), None)
    return result
