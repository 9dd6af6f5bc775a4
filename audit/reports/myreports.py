"""My Reports: background report runs, their progress, their files, and the 14-day purge.

``queue`` stores a run (status ``queued``) in the caller's transaction; :func:`run_next` claims
the oldest queued run (an UPDATE that only one process can win), produces it — recording
``progress`` as rows go out, on a connection of its own so the page sees it move — and stores the
file with its ``report.generated`` event in one transaction. A thread in each web process
(audit.reports.worker) calls it; tests call it directly. A run that fails is kept as ``failed``
with the reason.

Only the requester and state administrators may download a file. Runs are listed and
downloadable until ``expires_at`` (``EDLINK_REPORT_RETENTION_DAYS``, default 14, after the run
finished); the ``reports.purge`` job deletes them after that.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import socket

from flask import current_app
from sqlalchemy import select, update

import audit
from audit.reports import registry
from audit.reports.formats import MIMETYPES, Meta, writer
from audit.reports.models import ReportRun
from edlink import clock
from edlink.errors import DomainError, Forbidden, NotFound
from edlink.extensions import db
from edlink.models import User

log = logging.getLogger(__name__)


def retention() -> _dt.timedelta:
    return _dt.timedelta(days=int(current_app.config["REPORT_RETENTION_DAYS"]))


def queue(user: User, kind: registry.ReportKind, params: dict, fmt: str, total: int, scope: str) -> ReportRun:
    now = clock.now()
    run = ReportRun(requester_id=user.id, kind=kind.code, title=kind.title, params=params, format=fmt,
                    status="queued", progress=0, total=total, scope=scope[:300], created_at=now,
                    expires_at=now + retention())
    db.session.add(run)
    db.session.flush()
    from audit.reports import worker
    worker.wake_after_commit(current_app._get_current_object())
    return run


def is_state_admin(user: User) -> bool:
    from roles import gate
    return "edlink.state_admin" in gate.role_codes(user)


def _visible(user: User, everyone: bool):
    q = select(ReportRun).where(ReportRun.expires_at > clock.now())
    if not (everyone and is_state_admin(user)):
        q = q.where(ReportRun.requester_id == user.id)
    return q


def visible_runs(user: User, everyone: bool = False, limit: int = 200, offset: int = 0) -> list[ReportRun]:
    """The caller's runs not yet expired, newest first (a state administrator may ask for everyone's)."""
    q = _visible(user, everyone).order_by(ReportRun.id.desc()).limit(limit).offset(offset)
    return list(db.session.execute(q).scalars())


def count_runs(user: User, everyone: bool = False) -> int:
    q = _visible(user, everyone).with_only_columns(db.func.count()).order_by(None)
    return db.session.execute(q).scalar_one()


def get_run(user: User, run_id: int) -> ReportRun:
    """A run its requester (or a state administrator) may see; 404 otherwise, or once expired."""
    run = db.session.get(ReportRun, run_id)
    if run is None or run.expires_at <= clock.now():
        raise NotFound("unknown_report_run", "There is no such report in My Reports (reports are kept "
                                             f"{current_app.config['REPORT_RETENTION_DAYS']} days).")
    if run.requester_id != user.id and not is_state_admin(user):
        raise Forbidden("forbidden", "Only the person who asked for this report, or a state administrator, "
                                     "may open it.")
    return run


def download(user: User, run_id: int) -> tuple[str, str, bytes]:
    run = get_run(user, run_id)
    if run.status != "done":
        from edlink.errors import Conflict
        raise Conflict("report_not_ready", f"This report is {run.status}; it can be downloaded once it is done.")
    return run.filename, run.mimetype, run.content


def view(run: ReportRun) -> dict:
    return {"id": run.id, "report": run.kind, "title": run.title, "format": run.format, "status": run.status,
            "progress": run.progress, "total": run.total, "percent": run.percent, "rows": run.row_count,
            "scope": run.scope, "params": run.params, "requested_by": run.requester.username,
            "filename": run.filename, "size": run.size, "error": run.error,
            "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "expires_at": run.expires_at.isoformat()}


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim() -> int | None:
    while True:
        run_id = db.session.execute(select(ReportRun.id).where(ReportRun.status == "queued")
                                    .order_by(ReportRun.id).limit(1)).scalar()
        if run_id is None:
            db.session.rollback()
            return None
        won = db.session.execute(update(ReportRun).where(ReportRun.id == run_id, ReportRun.status == "queued")
                                 .values(status="running", started_at=clock.now(), worker=_holder())
                                 .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if won:
            return run_id


def _progress_writer(run_id: int, total: int):
    """Record rows done on a short transaction of its own (at most about a hundred times a run)."""
    step = max(500, total // 100)
    state = {"last": 0}
    engine = db.engine

    def progress(n: int) -> None:
        if n - state["last"] < step and n < total:
            return
        state["last"] = n
        with engine.begin() as conn:
            conn.execute(update(ReportRun.__table__).where(ReportRun.__table__.c.id == run_id)
                         .values(progress=n))
    return progress


def run_next() -> int | None:
    """Produce the oldest queued run, if any; answers its id. Commits (it is a job boundary)."""
    run_id = _claim()
    if run_id is None:
        return None
    run = db.session.get(ReportRun, run_id)
    try:
        kind = registry.get(run.kind)
        user = run.requester
        prepared = kind.prepare(user, dict(run.params))
        run.total = prepared.count
        meta = Meta(kind.title, prepared.scope, clock.now(), user.username,
                    {k: v for k, v in run.params.items() if v not in (None, "")}, prepared.count)
        body = writer(run.format)(meta, kind, prepared.rows, _progress_writer(run.id, prepared.count))
        from audit.reports.run import filename, record_generated
        # end the reading transaction first: on SQLite a snapshot older than the progress
        # writer's commits cannot become a writer
        db.session.rollback()
        now = clock.now()
        run = db.session.get(ReportRun, run_id)
        user = run.requester
        run.status, run.finished_at, run.expires_at = "done", now, now + retention()
        run.progress = run.row_count = meta.rows
        run.scope, run.content, run.size = prepared.scope[:300], body, len(body)
        run.filename, run.mimetype = filename(kind, run.params, run.format), MIMETYPES[run.format]
        record_generated(user, kind, run.params, run.format, meta.rows, run_id=run.id)
        db.session.commit()
    except Exception as exc:  # the run is kept as failed with its reason; the worker goes on
        db.session.rollback()
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, DomainError):
            log.exception("report run %s failed", run_id)
        db.session.execute(update(ReportRun).where(ReportRun.id == run_id).values(
            status="failed", error=message[:2000], finished_at=clock.now())
            .execution_options(synchronize_session=False))
        db.session.commit()
    return run_id


def run_all() -> int:
    """Work through every queued run (tests, and the worker thread); answers how many ran."""
    done = 0
    while run_next() is not None:
        done += 1
    return done


def purge() -> dict:
    """The ``reports.purge`` job: delete runs whose time in My Reports is over (their files with them)."""
    now = clock.now()
    gone = list(db.session.execute(select(ReportRun.id, ReportRun.requester_id)
                                   .where(ReportRun.expires_at <= now).order_by(ReportRun.id)).all())
    if not gone:
        return {"purged": 0}
    ids = [run_id for run_id, _who in gone]
    db.session.execute(db.delete(ReportRun).where(ReportRun.id.in_(ids)).execution_options(synchronize_session=False))
    audit.record("report.purged", "system:reports.purge", ("report_run", None), None,
                 {"runs": ids, "count": len(ids), "retention_days": int(current_app.config["REPORT_RETENTION_DAYS"])})
    return {"purged": len(ids)}
