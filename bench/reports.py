"""Auditor reports over the statewide data set (bench/statewide.py), on SQLite and PostgreSQL.

For each database: a scratch database filled with the statewide set, then, as a state auditor
holding edlink.auditor at the state:

- the Security Audit Report as CSV over everything (every grant that is active, suspended or
  expired), produced the way ``GET /api/v1/reports/security-audit?format=csv`` streams it
  (goal: under 3 s);
- the same report as Excel, the way a background run makes it (queued, produced by the runner
  with its progress records, stored in My Reports) (goal: under 15 s);
- point in time: who could do eser.student.read at one school at an instant mid-year (goal:
  under 1 s).

    python -m bench.reports [--database sqlite|postgresql|both] [--scale 1.0] [--repeat 2]

Prints one line per measurement (the best of ``--repeat``); exit status 1 when a goal is missed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
import tempfile
import time

from bench import statewide
from bench.bulk import add_database_option, database_kinds, migrated_app, scratch_database

GOALS = {"csv": 3.0, "xlsx": 15.0, "access-at": 1.0}


def auditor(db):
    """A state auditor the gate lets in: linked, staff record active, edlink.auditor at the state."""
    from edlink.models import Link, Org, StaffRecord, User
    from roles.models import Grant
    return db.session.execute(
        db.select(User).join(Grant, Grant.user_id == User.id).join(Org, Org.id == Grant.org_id)
        .join(Link, (Link.user_id == User.id) & Link.ended_at.is_(None))
        .join(StaffRecord, StaffRecord.id == Link.staff_record_id)
        .where(Grant.role_code == "edlink.auditor", Org.kind == "state", Grant.status == "active",
               Grant.ends_at.is_(None), StaffRecord.status == "active", User.disabled.is_(False))
        .order_by(User.id).limit(1)).scalar_one()


def measure(app, repeat: int) -> dict[str, tuple[float, int]]:
    from audit.reports import myreports
    from audit.reports.run import start
    from edlink.extensions import db
    from edlink.models import Org
    out: dict[str, tuple[float, int]] = {}
    with app.app_context():
        user = auditor(db)
        school = db.session.execute(db.select(Org.code).where(Org.kind == "school")
                                    .order_by(Org.code)).scalars().first()
        mid_year = _dt.datetime(2026, 1, 1, 12, tzinfo=_dt.UTC)  # the trail spans July 2025 to July 2026
        for name in ("csv", "xlsx", "access-at"):
            best, rows = None, 0
            for _ in range(repeat):
                began = time.perf_counter()
                if name == "csv":
                    outcome = start(user, "security-audit", {}, "csv")
                    rows = sum(chunk.count("\r\n") for chunk in outcome.body) - 1
                elif name == "xlsx":
                    run = start(user, "security-audit", {}, "xlsx")
                    db.session.commit()
                    myreports.run_next()
                    db.session.refresh(run)
                    assert run.status == "done", run.error
                    rows = run.row_count
                else:
                    outcome = start(user, "access-at", {"permission": "eser.student.read", "org": school,
                                                        "at": mid_year.isoformat()}, "json")
                    rows = outcome.body["count"]
                elapsed = time.perf_counter() - began
                db.session.commit()
                best = elapsed if best is None else min(best, elapsed)
            out[name] = (best, rows)
    return out


def report(kind: str, figures: dict[str, tuple[float, int]]) -> bool:
    ok = True
    labels = {"csv": "Security Audit Report, CSV", "xlsx": "Security Audit Report, Excel",
              "access-at": "point in time, one school and permission"}
    for name, (seconds, rows) in figures.items():
        good = seconds < GOALS[name]
        ok &= good
        print(f"{kind:<11} {labels[name]:<42} {rows:>7} rows  {seconds:6.2f} s  "
              f"(goal < {GOALS[name]:g} s: {'ok' if good else 'MISSED'})", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n\n")[0])
    add_database_option(parser)
    parser.add_argument("--scale", type=float, default=1.0, help="statewide scale (1.0: 300,000 grants)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement (the best is shown)")
    args = parser.parse_args(argv)
    kinds = database_kinds(args.database)
    if kinds is None:
        return 2
    ok = True
    for kind in kinds:
        with scratch_database(kind, "reports") as url, tempfile.TemporaryDirectory() as instance:
            app = migrated_app(url, instance, REPORT_WORKER=False)  # the bench runs the queue itself
            began = time.perf_counter()
            counts = statewide.generate(app, args.scale)
            print(f"{kind:<11} statewide data set: {counts['grants']} grants, {counts['staff']} staff, "
                  f"{counts['events']} events loaded in {time.perf_counter() - began:.0f} s", flush=True)
            ok &= report(kind, measure(app, args.repeat))
            with app.app_context():
                from edlink.extensions import db
                db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
