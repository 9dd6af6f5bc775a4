"""Append cost of the audit chain: ``audit.record`` (lock, last-row read, HMAC) versus a plain
insert of the same row, each in its own committed transaction, side by side in one run.

The plain insert goes into ``audit_event_plain``, a scratch copy of audit_event (same columns,
same indexes), through the same ORM path (session.add, flush, commit) with its seq counted in
memory: no lock, no read of the last row, no hash. The two alternate in rounds so drift of the
machine (cache, checkpoints, other load) falls on both alike.

    python -m bench.audit_append [--database sqlite|postgresql|both] [--events N] [--rounds R]

Prints, per database: µs per event for each, and chained/plain (the goal: at most 1.3).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import statistics
import sys
import tempfile
import time
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import audit
from bench import statewide
from bench.bulk import migrated_app, pg_answers, scratch_database
from edlink import clock
from edlink.extensions import db
from edlink.types import UTCDateTime

GOAL = 1.3


class _Scratch(DeclarativeBase):
    pass


class PlainEvent(_Scratch):
    """audit_event's columns and indexes under another name, without the chain."""

    __tablename__ = "audit_event_plain"
    __table_args__ = (
        Index("ix_audit_event_plain_action_time", "action", "occurred_at"),
        Index("ix_audit_event_plain_actor_action", "actor_id", "action", "occurred_at"),
        Index("ix_audit_event_plain_target", "target_type", "target_id"),
        Index("ix_audit_event_plain_org_code", "org_code"),
    )
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(150))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(100))
    org_code: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


def _same_shape_as_audit_event() -> None:
    """The scratch table must stay a faithful copy: same columns (types), same number of indexes."""
    real: Table = db.metadata.tables["audit_event"]
    plain: Table = PlainEvent.__table__
    shape = [(c.name, repr(c.type), c.nullable) for c in real.columns]
    if shape != [(c.name, repr(c.type), c.nullable) for c in plain.columns] or len(real.indexes) != len(plain.indexes):
        raise RuntimeError("audit_event_plain no longer matches audit_event: update bench/audit_append.py")


def _event(i: int) -> tuple:
    """The i-th event of the run: a realistic grant.created row."""
    return ("grant.created", f"system:bench{i % 7}", ("grant", 100_000 + i), f"{101 + i % 70}",
            {"user": f"benchuser{i}", "role": "eser.reader", "source": "request", "ends_at": None})


def chained(i: int) -> None:
    action, actor, target, org, details = _event(i)
    audit.record(action, actor, target, org, details)
    db.session.commit()


def plain(i: int, seq: int) -> None:
    action, actor, (kind, ident), org, details = _event(i)
    db.session.add(PlainEvent(seq=seq, occurred_at=clock.now(), action=action, actor_id=None, actor=actor,
                              target_type=kind, target_id=str(ident), org_code=org, details=dict(details),
                              prev_hash=None, hash=None))
    db.session.commit()


def measure(url: str, events: int, rounds: int, preload: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="edlink-append-") as instance:
        app = migrated_app(url, instance)
        if preload:
            statewide.generate(app, preload)  # a trail (and tables) that are not empty
        with app.app_context():
            _same_shape_as_audit_event()
            PlainEvent.__table__.create(db.engine)
            base = db.session.execute(db.select(db.func.count()).select_from(audit.AuditEvent)).scalar_one()
            per_round = max(1, events // rounds)
            for i in range(20):  # warm-up: caches, compiled statements, connections
                chained(10_000_000 + i)
                plain(10_000_000 + i, 10_000_000 + i)
            times: dict[str, list[float]] = {"chained": [], "plain": []}
            for r in range(rounds):
                order = ("chained", "plain") if r % 2 == 0 else ("plain", "chained")
                for which in order:
                    began = time.perf_counter()
                    for k in range(r * per_round, (r + 1) * per_round):
                        chained(k) if which == "chained" else plain(k, k + 1)
                    times[which].append((time.perf_counter() - began) / per_round)
            made = db.session.execute(db.select(db.func.count()).select_from(audit.AuditEvent)).scalar_one()
            assert made - base == 20 + rounds * per_round, "every chained append must have committed"
            db.session.remove()
            db.engine.dispose()
    chain_us = statistics.fmean(times["chained"]) * 1e6
    plain_us = statistics.fmean(times["plain"]) * 1e6
    return {"events": rounds * per_round, "chained_us": chain_us, "plain_us": plain_us,
            "ratio": chain_us / plain_us}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_append", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both",
                        help="both: SQLite, and PostgreSQL when it answers at EDLINK_BENCH_PG_URL")
    parser.add_argument("--events", type=int, default=4000, help="appends of each kind (default 4000)")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds (default 20)")
    parser.add_argument("--preload-scale", type=float, default=0.01,
                        help="statewide data set loaded first (default 0.01: 10,000 events); 0 for none")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    failed = False
    for kind in kinds:
        if kind == "postgresql" and not pg_answers():
            if args.database == "postgresql":
                print("PostgreSQL does not answer at EDLINK_BENCH_PG_URL", file=sys.stderr)
                return 2
            print("postgresql  skipped: PostgreSQL does not answer")
            continue
        with scratch_database(kind, "append") as url:
            r = measure(url, args.events, args.rounds, args.preload_scale)
        verdict = "ok" if r["ratio"] <= GOAL else f"OVER the {GOAL}x goal"
        failed |= r["ratio"] > GOAL
        print(f"{kind:<11} append, one event per transaction, {r['events']} of each: "
              f"chained {r['chained_us']:8.1f} µs/event   plain {r['plain_us']:8.1f} µs/event   "
              f"ratio {r['ratio']:.2f}  ({verdict})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
