"""Every job run is recorded (by ``edlink.jobs.run``: the scheduler and ``edlink jobs run`` alike);
state administrators read the runs at /admin/jobs; ``edlink scheduler`` and
``edlink run --with-scheduler`` start the scheduler."""
from __future__ import annotations

import datetime as _dt
import signal
import subprocess
import time

import click
import pytest
from sqlalchemy import func

from edlink import clock, jobs
from edlink.extensions import db
from edlink.job_models import JobRun, SchedulerLease
from edlink.models import Org
from edlink.scheduler import Scheduler
from tests.conftest import login
from tests.edlink.test_cli import EDLINK, clean_env, one_line_error, run

NOW = _dt.datetime(2031, 5, 5, 9, 0, tzinfo=_dt.UTC)


def all_runs() -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.execute(db.select(JobRun).order_by(JobRun.id)).scalars())


def add_org(code: str) -> None:
    db.session.add(Org(code=code, name=f"Org {code}", kind="state"))
    db.session.flush()


def org_count() -> int:
    db.session.expire_all()
    return db.session.execute(db.select(func.count()).select_from(Org)).scalar_one()


# --- recording ---------------------------------------------------------------------------------

def test_a_run_is_recorded_with_its_counts(app):
    clock.set_now(NOW)
    jobs.register(app, "test.count", lambda: {"looked_at": 3, "changed": 1})
    assert jobs.run("test.count") == {"looked_at": 3, "changed": 1}
    jobs.run("test.count", NOW + _dt.timedelta(days=30))  # as of another instant (--now)
    first, second = all_runs()
    assert (first.job, first.outcome, first.summary, first.error) == ("test.count", "ok",
                                                                      {"looked_at": 3, "changed": 1}, None)
    assert first.started_at == NOW and first.finished_at == NOW and first.as_of is None
    assert first.holder.startswith("cli@") and first.counts() == "looked at 3, changed 1"
    # a run pinned to another instant is recorded when it really ran, and as of when it ran
    assert second.started_at == NOW and second.as_of == NOW + _dt.timedelta(days=30)


def test_a_failing_run_rolls_its_work_back_and_is_recorded_with_the_error(app):
    def broken():
        add_org("ZZ")
        raise RuntimeError("the staff file is missing")

    jobs.register(app, "test.broken", broken)
    with pytest.raises(RuntimeError):
        jobs.run("test.broken", holder="scheduler-A")
    assert org_count() == 0
    (row,) = all_runs()
    assert (row.outcome, row.holder) == ("failed", "scheduler-A")
    assert row.error.startswith("RuntimeError: the staff file is missing") and "Traceback" in row.error
    assert row.finished_at is not None


def test_a_job_that_reports_failure_keeps_its_work(app):
    def half():
        add_org("ZZ")
        return jobs.failed("1 of 2 pushes refused", {"pushed": 1, "refused": 1})

    jobs.register(app, "test.half", half)
    with pytest.raises(jobs.JobFailed, match="1 of 2 pushes refused"):
        jobs.run("test.half")
    assert org_count() == 1
    (row,) = all_runs()
    assert (row.outcome, row.summary, row.error) == ("failed", {"pushed": 1, "refused": 1}, "1 of 2 pushes refused")


def test_a_string_result_is_kept_as_the_summary(app):
    jobs.register(app, "test.words", lambda: "nothing to do")
    jobs.run("test.words")
    assert all_runs()[0].summary == {"result": "nothing to do"}


def test_the_command_records_its_runs_and_says_when_a_job_fails(app):
    jobs.register(app, "test.half", lambda: jobs.failed("2 refused", {"refused": 2}))
    result = run(app, "jobs", "run", "grants.expire", "--now", "2031-01-01T07:00:00Z")
    assert result.exit_code == 0 and result.output.strip() == "grants.expire: expired 0, expiring_notices 0"
    one_line_error(run(app, "jobs", "run", "test.half"), "2 refused", "job_failed")
    ok, failed = all_runs()
    assert (ok.job, ok.outcome, ok.as_of) == ("grants.expire", "ok", _dt.datetime(2031, 1, 1, 7, tzinfo=_dt.UTC))
    assert (failed.job, failed.outcome) == ("test.half", "failed")
    assert all(r.holder.startswith("cli@") for r in (ok, failed))


# --- the page ----------------------------------------------------------------------------------

def _history(app) -> None:
    """Runs of every job by a scheduler instance, a failed run, and the lease it holds."""
    jobs.register(app, "test.broken", lambda: 1 / 0)
    s = Scheduler(app, holder="scheduler@host-1:100:abc123")
    s.tick(clock.now() - _dt.timedelta(hours=2))
    s.tick(clock.now() - _dt.timedelta(minutes=1))
    s.heartbeat(clock.now())


def test_state_administrators_see_the_jobs_runs_and_lease(demo, client):
    _history(demo)
    login(client, "stateadmin")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/jobs"' in home and "Scheduled jobs" in home
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Jobs are run by <strong>scheduler@host-1:100:abc123</strong>" in html
    for name, schedule in [("notifications.dispatch", "every 1 min"), ("grants.expire", "every 15 min"),
                           ("audit.verify", "daily at 02:00 (America/Chicago)")]:
        assert f'<code>{name}</code>' in html and schedule in html
    assert "ZeroDivisionError" in html  # the failed run's error, in the list
    total = len(all_runs())
    assert f"{total} runs" in html

    failed = client.get("/admin/jobs?outcome=failed").get_data(as_text=True)
    assert "2 runs" in failed and "grants.expire" not in failed.split('id="run-table"')[1]
    only = client.get("/admin/jobs?job=grants.expire").get_data(as_text=True)
    assert "2 runs" in only

    run_id = next(r.id for r in all_runs() if r.outcome == "failed")
    detail = client.get(f"/admin/jobs/runs/{run_id}").get_data(as_text=True)
    assert "ZeroDivisionError" in detail and "Traceback" in detail and "scheduler@host-1:100:abc123" in detail
    assert client.get("/admin/jobs/runs/999999").status_code == 404


def test_the_runs_are_paged(demo, make_app):
    app = make_app(PAGE_SIZE=3)
    jobs.register(app, "test.count", lambda: {"n": 1})
    for _ in range(7):
        jobs.run("test.count")
    client = app.test_client()
    login(client, "stateadmin")
    first = client.get("/admin/jobs?job=test.count").get_data(as_text=True)
    assert "7 runs" in first and "Page 1 of 3" in first
    last = client.get("/admin/jobs?job=test.count&page=3").get_data(as_text=True)
    assert last.split('id="run-table"')[1].count("<code>test.count</code>") == 1


def test_without_a_running_scheduler_the_page_says_so(demo, client):
    login(client, "stateadmin")
    assert "No scheduler has run yet" in client.get("/admin/jobs").get_data(as_text=True)
    s = Scheduler(demo, holder="scheduler-A")
    s.heartbeat()
    s.stop()
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert "No scheduler holds the lease" in html and "scheduler-A" in html


@pytest.mark.parametrize("who", ["coordinator", "auditor", "teacher"])
def test_only_state_administrators_see_the_jobs(demo, client, who):
    login(client, who)
    assert 'href="/admin/jobs"' not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/jobs").status_code == 403
    assert client.get("/admin/jobs/runs/1").status_code == 403


# --- starting the scheduler --------------------------------------------------------------------

class FakeRuntime:
    started: list[str] = []

    def __init__(self, app, *, blocking=False, holder=None):
        self.blocking = blocking
        self.holder = "fake"
        self.scheduler = Scheduler(app, "fake")

    def start(self):
        FakeRuntime.started.append("blocking" if self.blocking else "background")

    def shutdown(self):
        pass


@pytest.mark.parametrize("args, env, starts", [
    (["--with-scheduler", "--no-reload"], {}, ["background"]),
    (["--with-scheduler", "--reload"], {}, []),  # the reloader's watcher process: not here...
    (["--with-scheduler", "--reload"], {"WERKZEUG_RUN_MAIN": "true"}, ["background"]),  # ...in its server
    (["--no-reload"], {}, []),
])
def test_run_starts_the_scheduler_once_in_the_serving_process(app, monkeypatch, args, env, starts):
    import flask.cli

    import edlink.scheduler
    served = []
    monkeypatch.setattr(flask.cli, "run_command", click.Command(
        "run", params=flask.cli.run_command.params, callback=lambda **kw: served.append(kw)))
    monkeypatch.setattr(edlink.scheduler, "Runtime", FakeRuntime)
    monkeypatch.setattr(FakeRuntime, "started", [])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = run(app, "run", *args)
    assert result.exit_code == 0, result.output
    assert FakeRuntime.started == starts
    assert len(served) == 1 and "with_scheduler" not in served[0]


def test_edlink_scheduler_runs_jobs_in_its_own_process_and_hands_the_lease_back(app, db_url, tmp_path):
    """A real `edlink scheduler` for a moment, with a one-second tick and a one-second job."""
    env = clean_env(EDLINK_DATABASE_URL=db_url, EDLINK_INSTANCE_PATH=str(tmp_path / "instance"),
                    EDLINK_SCHEDULER_TICK_SECONDS="1", EDLINK_SCHEDULER_LEASE_SECONDS="30",
                    EDLINK_JOB_SCHEDULE="grants.expire=1,notifications.dispatch=off")
    proc = subprocess.Popen([EDLINK, "scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            db.session.rollback()
            if db.session.execute(db.select(func.count()).select_from(JobRun).where(
                    JobRun.job == "grants.expire", JobRun.outcome == "ok")).scalar_one() >= 2:
                break
            time.sleep(0.2)
        db.session.rollback()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "grants.expire" in out and "every 1 s" in out and "off (run by hand only)" in out
    assert "stopped; lease handed back" in out
    runs = all_runs()
    holders = {r.holder for r in runs}
    assert len(holders) == 1 and holders.pop().startswith("scheduler@")
    assert [r.job for r in runs if r.job == "grants.expire"][:2] == ["grants.expire"] * 2
    assert "notifications.dispatch" not in {r.job for r in runs}
    assert all(r.outcome == "ok" for r in runs)
    held = db.session.execute(db.select(SchedulerLease)).scalar_one()
    assert held.holder.startswith("scheduler@") and held.expires_at <= clock.now()  # handed back


def test_edlink_scheduler_on_an_unmigrated_database_says_so_in_one_line(tmp_path):
    proc = subprocess.run([EDLINK, "scheduler"], capture_output=True, text=True, cwd=tmp_path,
                          env=clean_env(EDLINK_INSTANCE_PATH=str(tmp_path)), timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: the database is not ready")
