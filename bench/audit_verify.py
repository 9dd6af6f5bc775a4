"""Verification speed: ``audit.verify.verify`` over the statewide trail (1,000,000 chained events).

Each database gets a scratch database filled by bench.statewide (about a minute each), or, with
``--database-url``, an existing one is reused as it is (for example one bench.statewide filled).

    python -m bench.audit_verify [--database sqlite|postgresql|both] [--scale S] [--repeat R]
    python -m bench.audit_verify --database-url URL [--audit-key KEY]

Prints, per database and run: events verified, seconds, µs per event (the goal: 1,000,000 in
under 10 s).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

from bench import statewide
from bench.bulk import migrated_app, pg_answers, scratch_database

GOAL_SECONDS_PER_MILLION = 10.0


def time_verify(app, repeat: int) -> list[tuple[int, float]]:
    """(events, seconds) of each full verification; every one must find the trail intact."""
    from audit import audit_key
    from audit.verify import verify
    from edlink.extensions import db

    runs = []
    with app.app_context():
        for _ in range(repeat):
            began = time.perf_counter()
            result = verify(audit_key())
            runs.append((result.count, time.perf_counter() - began))
            db.session.rollback()
            if not result.ok:
                raise SystemExit(f"the trail does not verify: {result.line()}")
        db.session.remove()
        db.engine.dispose()
    return runs


def report(label: str, runs: list[tuple[int, float]]) -> bool:
    ok = True
    for count, seconds in runs:
        per_million = seconds / max(count, 1) * 1_000_000
        within = per_million < GOAL_SECONDS_PER_MILLION
        ok &= within
        print(f"{label:<11} verify: {count} events in {seconds:6.2f} s = {seconds / max(count, 1) * 1e6:5.2f} µs/event"
              f"  ({'ok' if within else 'OVER'}: goal {GOAL_SECONDS_PER_MILLION:.0f} s per million)", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both",
                        help="both: SQLite, and PostgreSQL when it answers at EDLINK_BENCH_PG_URL")
    parser.add_argument("--database-url", help="verify this (already filled) database instead")
    parser.add_argument("--audit-key", help="the chain's key (default: EDLINK_AUDIT_KEY or the dev key)")
    parser.add_argument("--scale", type=float, default=1.0, help="statewide scale (1.0: 1,000,000 events)")
    parser.add_argument("--repeat", type=int, default=2, help="verifications per database (default 2)")
    args = parser.parse_args(argv)
    extra = {"AUDIT_KEY": args.audit_key} if args.audit_key else {}
    if args.database_url:
        return 0 if report("given", time_verify(migrated_app(args.database_url, **extra), args.repeat)) else 1
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    ok = True
    for kind in kinds:
        if kind == "postgresql" and not pg_answers():
            if args.database == "postgresql":
                print("PostgreSQL does not answer at EDLINK_BENCH_PG_URL", file=sys.stderr)
                return 2
            print("postgresql  skipped: PostgreSQL does not answer")
            continue
        with scratch_database(kind, "verify") as url, tempfile.TemporaryDirectory() as instance:
            app = migrated_app(url, instance, **extra)
            began = time.perf_counter()
            counts = statewide.generate(app, args.scale)
            print(f"{kind:<11} statewide data set: {counts['events']} events, {counts['grants']} grants, "
                  f"{counts['staff']} staff loaded in {time.perf_counter() - began:.0f} s", flush=True)
            ok &= report(kind, time_verify(app, args.repeat))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
