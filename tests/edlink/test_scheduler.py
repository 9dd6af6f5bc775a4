"""Two schedulers on one database: only the lease holder runs jobs; when it stops renewing, the
other takes over once the lease has run out, and carries on the schedule where it was left.

The instances are driven step by step (``tick(now)``) with a moved clock: nothing sleeps.
"""
from __future__ import annotations

import datetime as _dt
import threading

import pytest

from edlink import clock, jobs, lease
from edlink.extensions import db
from edlink.job_models import JobRun, SchedulerLease
from edlink.scheduler import Scheduler
from tests.conftest import DB_KIND

T0 = _dt.datetime(2031, 3, 3, 12, 0, tzinfo=_dt.UTC)
LEASE = 60
ALL_JOBS = ["audit.verify", "grants.expire", "notifications.dispatch", "requests.deadlines"]


def only_core_jobs(app):
    """Switch off the jobs other packages register (provisioning, lifecycle, ...): these tests
    follow the four above; a schedule the test sets itself wins."""
    extra = {name: "off" for name in jobs.names(app) if name not in ALL_JOBS}
    app.config["JOB_SCHEDULE"] = {**extra, **(app.config.get("JOB_SCHEDULE") or {})}
    return app


@pytest.fixture
def make_app(make_app):
    def make(**overrides):
        return only_core_jobs(make_app(**overrides))
    return make


def at(seconds: float) -> _dt.datetime:
    return T0 + _dt.timedelta(seconds=seconds)


def runs() -> list[tuple[str, str, _dt.datetime]]:
    db.session.rollback()
    return [(r.job, r.holder, r.started_at) for r in db.session.execute(
        db.select(JobRun).order_by(JobRun.id)).scalars()]


def the_lease() -> SchedulerLease:
    db.session.rollback()
    return db.session.execute(db.select(SchedulerLease)).scalar_one()


@pytest.fixture
def two(make_app):
    """Two app instances (two processes' worth: engines, sessions) on the one test database."""
    first = make_app(SCHEDULER_LEASE_SECONDS=LEASE)
    second = make_app(SCHEDULER_LEASE_SECONDS=LEASE)
    return Scheduler(first, holder="scheduler-A"), Scheduler(second, holder="scheduler-B")


def test_only_the_holder_runs_jobs_and_the_other_takes_over_after_the_lease(two):
    a, b = two
    assert a.tick(at(0)) == ALL_JOBS  # nothing ever ran: everything is due at once
    assert b.tick(at(0)) == []
    assert (a.holding, b.holding) == (True, False)
    assert a.tick(at(30)) == []  # nothing due yet (dispatch: every 60 s)
    assert b.tick(at(31)) == []
    assert a.tick(at(60)) == ["notifications.dispatch"]
    assert b.tick(at(61)) == []
    held = the_lease()
    assert (held.holder, held.expires_at, held.acquired_at) == ("scheduler-A", at(60 + LEASE), at(0))

    # A stops renewing (its process hangs or dies, without handing the lease back)
    assert b.tick(at(60 + LEASE - 1)) == []  # the lease still runs: B waits
    assert b.tick(at(60 + LEASE)) == ["notifications.dispatch"]  # run out: B takes over, carries on
    assert (b.holding, the_lease().holder) == (True, "scheduler-B")
    assert b.tick(at(60 + LEASE + 30)) == []  # the schedule goes on from B's run, not from scratch

    # A comes back: it finds the lease taken and runs nothing
    assert a.tick(at(60 + LEASE + 31)) == []
    assert a.holding is False

    history = runs()
    by_a = [(job, started) for job, holder, started in history if holder == "scheduler-A"]
    by_b = [(job, started) for job, holder, started in history if holder == "scheduler-B"]
    assert sorted(job for job, _ in by_a) == sorted([*ALL_JOBS, "notifications.dispatch"])
    assert by_b == [("notifications.dispatch", at(60 + LEASE))]
    assert max(s for _, s in by_a) < min(s for _, s in by_b)  # never both: A's runs all come before B's
    assert all(r.outcome == "ok" for r in db.session.execute(db.select(JobRun)).scalars())


def test_the_survivor_runs_every_job_that_fell_due_meanwhile(two):
    a, b = two
    a.tick(at(0))
    # A is gone for an hour; B takes over as soon as the lease runs out and catches up at once
    assert b.tick(at(LEASE)) == ["notifications.dispatch"]
    assert b.tick(at(3600)) == ["grants.expire", "notifications.dispatch", "requests.deadlines"]


def test_a_clean_stop_hands_the_lease_over_at_once(two):
    a, b = two
    a.tick(at(0))
    a.stop()
    assert a.tick(at(1)) == [] and a.heartbeat(at(1)) is False
    assert b.heartbeat(at(1)) is True
    assert the_lease().holder == "scheduler-B"


def test_heartbeats_keep_the_lease_while_a_job_runs_long(two):
    a, b = two
    a.tick(at(0))
    for second in range(20, 200, 20):  # the holder's heartbeat thread goes on renewing
        assert a.heartbeat(at(second)) is True
        assert b.heartbeat(at(second + 1)) is False
    assert the_lease().expires_at == at(180 + LEASE)
    assert the_lease().acquired_at == at(0)  # held without a break
    assert a.heartbeat(at(180 + LEASE + 5)) is True  # ran out, nobody took it: A holds it anew
    assert the_lease().acquired_at == at(180 + LEASE + 5)


def test_runs_left_running_by_a_dead_holder_are_marked_abandoned(two):
    a, b = two
    a.heartbeat(at(0))
    db.session.add(JobRun(job="grants.expire", started_at=at(1), outcome="running", summary={},
                          holder="scheduler-A"))
    db.session.add(JobRun(job="grants.expire", started_at=at(1), outcome="running", summary={},
                          holder="cli@elsewhere:1"))  # a manual run: not the scheduler's to judge
    db.session.commit()
    b.heartbeat(at(LEASE + 1))
    db.session.expire_all()
    rows = {r.holder: r for r in db.session.execute(db.select(JobRun)).scalars()}
    assert rows["scheduler-A"].outcome == "failed" and rows["scheduler-A"].finished_at == at(LEASE + 1)
    assert "abandoned" in rows["scheduler-A"].error and "scheduler-B" in rows["scheduler-A"].error
    assert rows["cli@elsewhere:1"].outcome == "running"


def test_a_failing_job_is_recorded_and_the_others_still_run(two, make_app):
    a, _ = two
    calls = []

    def broken():
        calls.append("broken")
        raise RuntimeError("the directory server is down")

    jobs.register(a.app, "test.broken", broken)
    a.schedules = Scheduler(a.app, a.holder).schedules  # it was registered after the instance was made
    assert a.tick(at(0)) == sorted([*ALL_JOBS, "test.broken"])
    failed = db.session.execute(db.select(JobRun).where(JobRun.job == "test.broken")).scalar_one()
    assert failed.outcome == "failed" and failed.holder == "scheduler-A"
    assert "RuntimeError: the directory server is down" in failed.error
    # a failed run counts as a run: retried on its interval (hourly by default), not at every tick
    assert "test.broken" not in a.tick(at(1800))
    assert a.tick(at(3600)) == ["grants.expire", "notifications.dispatch", "requests.deadlines", "test.broken"]
    assert calls == ["broken", "broken"]


def test_schedule_settings_decide_what_is_due(make_app):
    app = make_app(JOB_SCHEDULE={"notifications.dispatch": "off", "grants.expire": 10}, AUDIT_VERIFY_HOUR=4,
                   TIMEZONE="UTC")
    s = Scheduler(app, holder="scheduler-A")
    assert s.tick(at(0)) == ["audit.verify", "grants.expire", "requests.deadlines"]
    assert s.tick(at(10)) == ["grants.expire"]
    assert s.tick(at(15)) == []
    # audit.verify: daily at 04:00 UTC, and T0 is 12:00 -> next at 04:00 tomorrow
    next_day = _dt.datetime(2031, 3, 4, 4, 0, tzinfo=_dt.UTC)
    assert "audit.verify" not in s.due(next_day - _dt.timedelta(seconds=1))
    assert "audit.verify" in s.due(next_day)


def _race(app, contenders: int, round_: int) -> list[str]:
    """Every contender calls acquire at the same moment, each on its own connection; the winners."""
    start = threading.Barrier(contenders)
    won: list[str] = []
    errors: list[BaseException] = []

    def contend(name: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                if lease.acquire(name, LEASE):
                    won.append(name)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"contender-{round_}-{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return won


def test_racing_for_a_free_lease_exactly_one_wins(make_app):
    contenders = 4
    options = {"pool_size": contenders + 1, "max_overflow": 0} if DB_KIND != "sqlite" else {}
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=options)
    clock.set_now(at(0))
    for round_ in range(3):  # a fresh table (insert race), then an expired lease twice (update race)
        won = _race(app, contenders, round_)
        assert len(won) == 1, won
        assert the_lease().holder == won[0]
        clock.advance(_dt.timedelta(seconds=LEASE))  # let it run out for the next round


def test_the_holder_prunes_old_runs_hourly(make_app):
    app = make_app(JOB_RUN_RETENTION_DAYS=90)
    old = at(-91 * 86400)
    for outcome in ("ok", "failed", "running"):
        db.session.add(JobRun(job="grants.expire", started_at=old, outcome=outcome, summary={}, holder="scheduler-Z"))
    db.session.add(JobRun(job="grants.expire", started_at=at(-89 * 86400), outcome="ok", summary={},
                          holder="scheduler-Z"))
    db.session.commit()
    s = Scheduler(app, holder="scheduler-A")
    s.tick(at(0))
    kept = {(r.started_at, r.outcome) for r in db.session.execute(
        db.select(JobRun).where(JobRun.holder == "scheduler-Z")).scalars()}
    assert kept == {(old, "running"), (at(-89 * 86400), "ok")}  # a run still marked running is kept

    db.session.add(JobRun(job="grants.expire", started_at=old, outcome="ok", summary={}, holder="scheduler-Z"))
    db.session.commit()
    s.tick(at(1800))  # pruned less than an hour ago: not again yet
    assert len([r for r in runs() if r[1] == "scheduler-Z"]) == 3
    s.tick(at(3600))
    assert len([r for r in runs() if r[1] == "scheduler-Z"]) == 2


def test_retention_zero_keeps_every_run(make_app):
    app = make_app(JOB_RUN_RETENTION_DAYS=0)
    db.session.add(JobRun(job="grants.expire", started_at=at(-3650 * 86400), outcome="ok", summary={}, holder="x"))
    db.session.commit()
    Scheduler(app, holder="scheduler-A").tick(at(0))
    assert len(runs()) == len(ALL_JOBS) + 1
