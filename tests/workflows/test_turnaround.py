"""The turnaround report: per LEA and stage, decided, median and 90th percentile business days, late,
overdue now, escalations — in the report registry workflows adds it to."""
import datetime as dt

import pytest

from edlink import jobs
from edlink.extensions import db
from tests.audit.reports_support import A, at, login, read_csv, run_in_background, seed_demo

D = dt.timedelta(days=1)
COLUMNS = ["LEA Code", "LEA Name", "Stage", "Approver Role", "Decided", "Approved", "Denied", "Median Business Days",
           "90th Percentile Business Days", "Decided Late", "Open Overdue", "Escalations"]
PINECREST = "Pinecrest Parish School System"
EXPECTED = [
    ["101", PINECREST, "1", "Special Education Supervisor", "2", "2", "0", "3.5", "6", "1", "1", "1"],
    ["101", PINECREST, "2", "Security Coordinator", "2", "1", "1", "1", "2", "0", "0", "0"],
]


def submit(client, role, org):
    login(client, "teacher")
    resp = client.post("/api/v1/requests", json={"role": role, "org": org, "justification": "IEPs"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def decide(client, who, request_id, verb="approve"):
    login(client, who)
    body = {"reason": "not needed"} if verb == "deny" else {}
    resp = client.post(f"/api/v1/requests/{request_id}/{verb}", json=body)
    assert resp.status_code == 200, resp.get_json()


@pytest.fixture
def requests_made(app, client):
    """Monday A (Chicago): three requests. R1 decided after 1 and 2 business days; R2 after 6 (late:
    the deadline is 5) and then denied the same day; R3 left open, overdue and escalated at A+10d."""
    seed_demo()
    at(A)
    r1 = submit(client, "eser.reader", "101002")
    r2 = submit(client, "eser.writer", "101002")
    r3 = submit(client, "eser.reader", "101")
    at(A + D)
    decide(client, "supervisor", r1)
    at(A + 3 * D)
    decide(client, "coordinator", r1)
    at(A + 8 * D)
    decide(client, "supervisor", r2)
    at(A + 8 * D + dt.timedelta(hours=1))
    decide(client, "coordinator", r2, "deny")
    at(A + 10 * D)
    client.post("/logout")
    jobs.run("requests.deadlines")
    db.session.commit()
    login(client, "auditor")
    return r3


def test_turnaround_per_lea_and_stage(requests_made, client):
    body = client.get("/api/v1/reports/turnaround").get_json()
    assert body["columns"] == COLUMNS
    assert [[r[c] for c in COLUMNS] for r in body["rows"]] == EXPECTED
    assert read_csv(client.get("/api/v1/reports/turnaround?org=101&format=csv").data) == [COLUMNS, *EXPECTED]
    _status, got = run_in_background(client, "/api/v1/reports/turnaround?org=101&format=xlsx")
    from tests.audit.reports_support import read_xlsx
    _sheet, rows, _book = read_xlsx(got.data)
    assert rows[0] == COLUMNS and rows[1][4:9] == [2, 2, 0, 3.5, 6]


def test_the_period_counts_decisions_within_it(requests_made, client):
    # only R2's decisions (A+8d, Tuesday 12 January) fall on or after 12 January
    rows = client.get("/api/v1/reports/turnaround?since=2027-01-12").get_json()["rows"]
    assert [(r["Stage"], r["Decided"], r["Median Business Days"], r["Decided Late"], r["Open Overdue"])
            for r in rows] == [("1", "1", "6", "1", "1"), ("2", "1", "0", "0", "0")]
    rows = client.get("/api/v1/reports/turnaround?until=2027-01-05").get_json()["rows"]
    assert [(r["Stage"], r["Decided"], r["Median Business Days"], r["Open Overdue"]) for r in rows] == [
        ("1", "1", "1", "1")]  # stage 2 had nothing decided, overdue or escalated by then
    assert client.get("/api/v1/reports/turnaround?since=bogus").status_code == 422
    assert client.get("/api/v1/reports/turnaround?since=2027-02-01&until=2027-01-01").status_code == 422


def test_an_lea_sees_only_its_own_requests(requests_made, client):
    login(client, "coordinator")
    assert client.get("/api/v1/reports/turnaround?org=102").status_code == 403
    assert [r["LEA Code"] for r in client.get("/api/v1/reports/turnaround").get_json()["rows"]] == ["101", "101"]
    login(client, "teacher")
    assert client.get("/api/v1/reports/turnaround").status_code == 403
