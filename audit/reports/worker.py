"""The background report worker: one thread per web process works through queued report runs.

Started on the process's first request (and whenever a run is queued), so a gunicorn worker
forked after start-up gets its own. It wakes when a run it queued commits, and otherwise looks
for queued runs every ``EDLINK_REPORT_WORKER_POLL_SECONDS`` (default 5) — runs queued by a process
that has since stopped are picked up by another. Several processes may run workers: a run is
claimed by one only (audit.reports.myreports). ``EDLINK_REPORT_WORKER = false`` turns it off (the
default under TESTING: tests call ``myreports.run_all()`` themselves).
"""
from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from sqlalchemy import event

from edlink.extensions import db

KEY = "audit.report_worker"
log = logging.getLogger(__name__)


class Worker:
    def __init__(self, app: Flask):
        self.app = app
        self.wakeup = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.stopping = False
        self.passed = threading.Event()  # set after each pass over the queue (tests wait on it)

    def ensure(self) -> None:
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        with self.lock:
            if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.thread = threading.Thread(target=self._loop, name="edlink-report-worker", daemon=True)
            self.thread.start()

    def wake(self) -> None:
        self.ensure()
        self.wakeup.set()

    def stop(self) -> None:
        self.stopping = True
        self.wakeup.set()
        if self.thread is not None:
            self.thread.join(timeout=30)

    def _loop(self) -> None:
        from audit.reports.myreports import run_all
        poll = float(self.app.config["REPORT_WORKER_POLL_SECONDS"])
        while not self.stopping:
            self.wakeup.clear()
            try:
                with self.app.app_context():
                    try:
                        run_all()
                    finally:
                        db.session.remove()
            except Exception:  # a database that went away: try again at the next poll
                log.exception("report worker")
            self.passed.set()
            self.wakeup.wait(poll)


def get(app: Flask) -> Worker | None:
    if not app.config.get("REPORT_WORKER"):
        return None
    worker = app.extensions.get(KEY)
    if worker is None:
        worker = app.extensions[KEY] = Worker(app)
    return worker


def wake_after_commit(app: Flask) -> None:
    """Wake this process's worker once the current transaction commits (the run is then visible)."""
    worker = get(app)
    if worker is None:
        return
    event.listen(db.session(), "after_commit", lambda _session: worker.wake(), once=True)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_worker():
        worker = get(app)
        if worker is not None:
            worker.ensure()
