"""Named scheduled jobs: packages register callables, ``run(name)`` runs one once.

A job is a function taking no arguments that does its work in the current app context and
returns a short summary (a dict or a string). ``run`` is the job boundary: it commits when the
job returns and rolls back when it raises. ``now`` pins :mod:`edlink.clock` for the run, so a
job can be run "as of" an instant (``edlink jobs run NAME --now ISO``). Jobs must be
idempotent: the scheduler (a later issue) may run them every minute, and more than one
scheduler may be started.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from edlink import clock
from edlink.errors import NotFound
from edlink.extensions import db

JOBS_KEY = "edlink.jobs"

Job = Callable[[], Any]


class UnknownJob(NotFound):
    code = "unknown_job"


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


def run(name: str, now: _dt.datetime | None = None) -> Any:
    """Run the job ``name`` once, as of ``now`` when given; commit its work, or roll it back."""
    func = get(name)
    try:
        if now is None:
            result = func()
        else:
            with clock.frozen(now):
                result = func()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result
