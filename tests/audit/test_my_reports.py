"""My Reports: background runs past the row threshold, progress, who may download, the 14-day purge."""
import datetime as dt

import pytest

from audit.models import AuditEvent
from audit.reports import myreports, registry
from audit.reports.models import ReportRun
from audit.reports.registry import Prepared, ReportKind
from edlink import clock, jobs
from edlink.extensions import db
from tests.audit.reports_support import login, read_csv, world_app

SAR = "/api/v1/reports/security-audit?org=101&application=eser"


@pytest.fixture
def small(make_app):
    """An app whose background threshold is 2 rows (the world's Security Audit Report has 3)."""
    return world_app(make_app, REPORT_BACKGROUND_ROWS=2)


def generated(run_id=None):
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "report.generated")
                                .order_by(AuditEvent.seq)).scalars().all()
    return [e for e in events if run_id is None or e.details.get("run") == run_id]


def test_beyond_the_threshold_it_runs_in_the_background_and_lands_in_my_reports(small):
    _app, client = small
    resp = client.get(SAR)  # JSON, 3 rows > 2
    assert resp.status_code == 202 and resp.headers["Location"].endswith(f"/runs/{resp.get_json()['run']['id']}")
    run = resp.get_json()["run"]
    assert (run["status"], run["progress"], run["total"], run["percent"], run["download_url"]) == (
        "queued", 0, 3, 0, None)
    assert generated(run["id"]) == []  # recorded when the file is made
    assert client.get(f"/api/v1/reports/runs/{run['id']}/download").status_code == 409
    page = client.get("/reports/mine").get_data(as_text=True)
    assert "Security Audit Report" in page and 'aria-valuenow="0"' in page and "Queued: 0 of 3 rows" in page

    assert myreports.run_all() == 1
    status = client.get(run["status_url"]).get_json()
    assert (status["status"], status["progress"], status["rows"], status["percent"]) == ("done", 3, 3, 100)
    body = client.get(status["download_url"]).get_json()
    assert [r["Location Code"] for r in body["rows"]] == ["101", "101001", "101002"]
    listed = client.get("/api/v1/reports/runs").get_json()["runs"]
    assert [r["id"] for r in listed] == [run["id"]]
    [event] = generated(run["id"])
    assert event.actor == "coordinator" and event.details["rows"] == 3 and event.details["format"] == "json"
    assert 'aria-valuenow="100"' in client.get("/reports/mine").get_data(as_text=True)

    # CSV over the API still streams at once at any size
    assert read_csv(client.get(SAR + "&format=csv").data)[0][0] == "Location Code"


def test_progress_is_visible_while_it_runs(small):
    app, client = small
    seen = []

    def rows():
        for n in range(3000):
            if n == 2000:  # half-way: what the page's poll would read now
                other = app.test_client()
                login(other, "coordinator")
                seen.append(other.get(f"/api/v1/reports/runs/{run_id}").get_json())
            yield (n,)

    registry.register(app, ReportKind(code="counting", title="Counting", columns=("N",), parse=lambda a: {},
                                      prepare=lambda user, params: Prepared(scope="test", count=3000, rows=rows())))
    run_id = client.get("/api/v1/reports/counting?format=csv&background=1").get_json()["run"]["id"]
    myreports.run_all()
    assert seen and seen[0]["status"] == "running" and 1500 <= seen[0]["progress"] < 3000
    assert 50 <= seen[0]["percent"] < 100
    done = client.get(f"/api/v1/reports/runs/{run_id}").get_json()
    assert done["status"] == "done" and done["rows"] == 3000
    assert len(read_csv(client.get(done["download_url"]).data)) == 3001


def test_only_the_requester_and_state_administrators_download(small):
    _app, client = small
    run_id = client.get(SAR + "&format=xlsx").get_json()["run"]["id"]
    myreports.run_all()
    url = f"/api/v1/reports/runs/{run_id}/download"
    assert client.get(url).status_code == 200
    login(client, "auditor")  # a state auditor, not a state administrator
    assert client.get(url).status_code == 403
    assert client.get("/api/v1/reports/runs").get_json()["runs"] == []
    assert client.get(f"/reports/runs/{run_id}/download").status_code == 403
    login(client, "stateadmin")
    assert client.get(url).status_code == 200
    assert client.get("/api/v1/reports/runs").get_json()["runs"] == []
    assert [r["id"] for r in client.get("/api/v1/reports/runs?all=1").get_json()["runs"]] == [run_id]


def test_gone_after_fourteen_days(small):
    _app, client = small
    run_id = client.get(SAR + "&format=pdf").get_json()["run"]["id"]
    myreports.run_all()
    finished = db.session.get(ReportRun, run_id).finished_at
    clock.set_now(finished + dt.timedelta(days=14) - dt.timedelta(seconds=1))
    assert jobs.run("reports.purge") == {"purged": 0}
    login(client, "coordinator")  # (the session timed out meanwhile)
    assert client.get(f"/api/v1/reports/runs/{run_id}/download").status_code == 200
    clock.set_now(finished + dt.timedelta(days=14))
    login(client, "coordinator")
    assert client.get("/api/v1/reports/runs").get_json()["runs"] == []  # listed no longer, even before the purge
    assert client.get(f"/api/v1/reports/runs/{run_id}/download").status_code == 404
    assert jobs.run("reports.purge") == {"purged": 1}
    assert db.session.get(ReportRun, run_id) is None
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "report.purged")).scalar_one()
    assert event.details["runs"] == [run_id]
    assert "You have no reports here yet" in client.get("/reports/mine").get_data(as_text=True)


def test_a_failing_run_is_kept_as_failed_with_its_reason(small):
    app, client = small

    def broken(user, params):
        def rows():
            yield ("one",)
            raise RuntimeError("the disk is full")
        return Prepared(scope="test", count=2, rows=rows())
    registry.register(app, ReportKind(code="broken", title="Broken", columns=("N",), parse=lambda a: {},
                                      prepare=broken))
    run_id = client.get("/api/v1/reports/broken?format=xlsx").get_json()["run"]["id"]
    myreports.run_all()
    status = client.get(f"/api/v1/reports/runs/{run_id}").get_json()
    assert status["status"] == "failed" and "the disk is full" in status["error"]
    assert generated(run_id) == []
    assert "Failed: RuntimeError: the disk is full" in client.get("/reports/mine").get_data(as_text=True)


def test_the_worker_thread_runs_what_the_web_process_queues(make_app):
    app, client = world_app(make_app, REPORT_WORKER=True, REPORT_WORKER_POLL_SECONDS=1)
    run_id = client.get(SAR + "&format=docx").get_json()["run"]["id"]
    worker = app.extensions["audit.report_worker"]
    try:
        for _ in range(30):
            worker.passed.clear()
            db.session.expire_all()
            if db.session.get(ReportRun, run_id).status == "done":
                break
            worker.passed.wait(10)
        assert db.session.get(ReportRun, run_id).status == "done"
    finally:
        worker.stop()


def test_configuration_is_checked(make_app):
    from edlink.config import ConfigError
    for key in ("REPORT_BACKGROUND_ROWS", "REPORT_RETENTION_DAYS"):
        with pytest.raises(ConfigError, match=f"EDLINK_{key}"):
            make_app(**{key: "lots"})
        with pytest.raises(ConfigError, match=f"EDLINK_{key}"):
            make_app(**{key: 0})
