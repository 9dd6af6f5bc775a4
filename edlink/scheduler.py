"""The scheduler: runs every registered job on its schedule, in one instance at a time.

``edlink scheduler`` runs it in a process of its own (APScheduler's BlockingScheduler);
``edlink run --with-scheduler`` (what ``make run`` does) runs it in a background thread of the web
process (BackgroundScheduler), for a single machine. Any number may be started: they share the
lease (edlink.lease) and only its holder runs jobs. The others keep trying to take the lease
and take it over once the holder has stopped renewing it for EDLINK_SCHEDULER_LEASE_SECONDS.

APScheduler drives two things in its thread pool:

* the heartbeat, every third of the lease time: take or renew the lease (so a long job never lets
  the lease run out under a live holder);
* the tick, every EDLINK_SCHEDULER_TICK_SECONDS: if this instance holds the lease, run each job
  that is due (edlink.schedule), one after another, each through ``edlink.jobs.run`` (which
  records the run), renewing the lease before each.

What is due is read from ``job_run``, not kept in memory, so an instance that takes the lease over
carries on the schedule. :meth:`Scheduler.tick` and :meth:`Scheduler.heartbeat` take an optional
``now``: tests drive instances step by step with a moved clock instead of sleeping.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import func

from edlink import clock, job_runs, jobs, lease
from edlink.extensions import db
from edlink.job_models import JobRun
from edlink.schedule import Schedule, schedule_for

log = logging.getLogger(__name__)
PRUNE_EVERY = _dt.timedelta(hours=1)


def new_holder() -> str:
    """A name for this scheduler instance: ``scheduler@host:pid:random``."""
    return f"scheduler@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def schedules(app: Flask) -> dict[str, Schedule]:
    """Every registered job's schedule, by name."""
    return {name: schedule_for(name, app.config) for name in jobs.names(app)}


def last_started(names: list[str]) -> dict[str, _dt.datetime]:
    """When each job's latest run started (jobs that never ran are absent)."""
    if not names:
        return {}
    rows = db.session.execute(db.select(JobRun.job, func.max(JobRun.started_at))
                              .where(JobRun.job.in_(names)).group_by(JobRun.job)).all()
    return {job: clock.as_utc(at) for job, at in rows if at is not None}


class Scheduler:
    """One scheduler instance of ``app``: the lease and the due jobs, without a clock of its own."""

    def __init__(self, app: Flask, holder: str | None = None):
        self.app = app
        self.holder = holder or new_holder()
        self.lease_seconds = int(app.config["SCHEDULER_LEASE_SECONDS"])
        self.early = _dt.timedelta(seconds=int(app.config["SCHEDULER_TICK_SECONDS"]) / 2)
        self.schedules = schedules(app)
        self.retention_days = int(app.config["JOB_RUN_RETENTION_DAYS"])
        self.pruned_at: _dt.datetime | None = None
        self.holding = False
        self.stopped = False
        self._lock = threading.Lock()  # the heartbeat and the tick renew one at a time

    @contextlib.contextmanager
    def _context(self, now: _dt.datetime | None) -> Iterator[None]:
        """Its own app context (so its own database session), with the clock pinned to ``now``."""
        with self.app.app_context():
            try:
                with clock.frozen(now) if now is not None else contextlib.nullcontext():
                    yield
            finally:
                db.session.remove()

    def _renew(self) -> bool:
        with self._lock:
            was = self.holding
            self.holding = not self.stopped and lease.acquire(self.holder, self.lease_seconds)
        if was and not self.holding:
            log.warning("scheduler %s lost the lease; another instance runs the jobs now", self.holder)
        elif self.holding and not was:
            log.info("scheduler %s holds the lease and runs the jobs", self.holder)
        return self.holding

    def heartbeat(self, now: _dt.datetime | None = None) -> bool:
        """Take or renew the lease; True while this instance holds it."""
        if self.stopped:
            return False
        with self._context(now):
            return self._renew()

    def due(self, now: _dt.datetime | None = None) -> list[str]:
        """The jobs due at ``now`` (by their last runs), in name order."""
        with self._context(now):
            return self._due()

    def _due(self) -> list[str]:
        now = clock.now()
        last = last_started(list(self.schedules))
        return [name for name, schedule in sorted(self.schedules.items())
                if schedule.is_due(last.get(name), now, self.early)]

    def tick(self, now: _dt.datetime | None = None) -> list[str]:
        """Take or renew the lease; when held, run every due job once. Answers the jobs run.

        A job that fails is recorded as failed (job_run) and logged; the others still run. If the
        lease is lost between two jobs (this instance stalled past the lease), the tick stops:
        the new holder runs what is left.
        """
        if self.stopped:
            return []
        ran: list[str] = []
        with self._context(now):
            if not self._renew():
                return ran
            for name in self._due():
                if not self._renew():
                    break
                try:
                    result = jobs.run(name, holder=self.holder)
                except jobs.JobFailed as exc:  # it did its work and reports a failure (recorded)
                    log.error("scheduled job %s reported a failure: %s", name, exc.message)
                except Exception:  # recorded in job_run by jobs.run; keep the scheduler going
                    log.exception("scheduled job %s failed", name)
                else:
                    log.info("scheduled job %s: %s", name, result if result is not None else "done")
                ran.append(name)
            self._prune()
        return ran

    def _prune(self) -> None:
        """At most hourly, forget runs older than EDLINK_JOB_RUN_RETENTION_DAYS."""
        now = clock.now()
        if self.pruned_at is not None and abs(now - self.pruned_at) < PRUNE_EVERY:
            return
        self.pruned_at = now
        try:
            pruned = job_runs.prune(self.retention_days)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("scheduler %s: could not prune old job runs", self.holder)
            return
        if pruned:
            log.info("pruned %s job runs older than %s days", pruned, self.retention_days)

    def stop(self) -> None:
        """Stop acting and hand the lease back, so another instance may take over at once."""
        self.stopped = True
        if self.holding:
            with self._context(None):
                lease.release(self.holder)
        self.holding = False


class Runtime:
    """A Scheduler driven in real time by APScheduler (blocking: this process is the scheduler)."""

    def __init__(self, app: Flask, *, blocking: bool = False, holder: str | None = None):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.scheduler = Scheduler(app, holder)
        kind = BlockingScheduler if blocking else BackgroundScheduler
        self.aps = kind(timezone=_dt.UTC, executors={"default": ThreadPoolExecutor(2)},
                        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        start = _dt.datetime.now(_dt.UTC)
        beat = max(self.scheduler.lease_seconds // 3, 1)
        self.aps.add_job(self._heartbeat, "interval", seconds=beat, id="edlink.scheduler.heartbeat",
                         name="renew the scheduler lease", next_run_time=start)
        self.aps.add_job(self._tick, "interval", seconds=int(app.config["SCHEDULER_TICK_SECONDS"]),
                         id="edlink.scheduler.tick", name="run the due jobs", next_run_time=start)

    @property
    def holder(self) -> str:
        return self.scheduler.holder

    def _heartbeat(self) -> None:
        try:
            self.scheduler.heartbeat()
        except Exception:  # the database may be away for a moment: try again at the next beat
            self.scheduler.holding = False
            log.exception("scheduler %s: could not renew the lease", self.holder)

    def _tick(self) -> None:
        try:
            self.scheduler.tick()
        except Exception:
            log.exception("scheduler %s: tick failed", self.holder)

    def start(self) -> None:
        """Start (a BlockingScheduler returns only when stopped: KeyboardInterrupt / SystemExit)."""
        self.aps.start()

    def shutdown(self) -> None:
        """Let a running job finish, then hand the lease back."""
        if self.aps.running:
            self.aps.shutdown(wait=True)
        try:
            self.scheduler.stop()
        except Exception:
            log.exception("scheduler %s: could not release the lease", self.holder)
