"""The review jobs and the report: launching on the recurrence (once per period), reminders before
the deadline, helpers that recommend removal, the CSV and Excel report."""
from __future__ import annotations

import csv
import datetime as _dt
import io

from edlink import clock, jobs
from edlink.extensions import db
from edlink.users import get_user
from tests.conftest import login
from tests.workflows.reviews_support import START, events, grant, notes, staffer
from workflows.reviews import helpers
from workflows.reviews.models import AccessReview, ReviewItem


def _reviews(application=None):
    query = db.select(AccessReview).order_by(AccessReview.id)
    if application:
        query = query.where(AccessReview.application == application)
    db.session.expire_all()
    return list(db.session.execute(query).scalars())


def test_launch_starts_one_review_per_school_system_application_and_period(demo):
    clock.set_now(START)
    grant(staffer("reader1"))
    grant(staffer("harbor1", lea="102", sites=("102001",)), org="102001")
    db.session.commit()
    first = jobs.run("reviews.launch", START)
    # eSER at 101 and 102; EdLink at 101 (its coordinator and data manager); 103 has no grants
    assert first == {"started": 3, "already": 0, "nothing_to_review": 3}
    assert {(r.lea.code, r.application, r.period, r.origin) for r in _reviews()} == {
        ("101", "eser", "2027-H1", "schedule"), ("102", "eser", "2027-H1", "schedule"),
        ("101", "edlink", "2027", "schedule")}
    [eser101] = [r for r in _reviews("eser") if r.lea.code == "101"]
    assert eser101.due_at == _dt.datetime(2027, 4, 1, 5, 0, tzinfo=_dt.UTC)  # 30 days, end of the local day
    assert {i.user.username for i in eser101.items} == {"reader1", "supervisor"}
    assert [e.actor for e in events("review.started")] == ["system:reviews.launch"] * 3
    assert notes("coordinator", "review.started") and notes("supervisor", "review.started")
    # Harbor City has no reviewer: its review goes to the state administrators
    assert notes("stateadmin", "review.started")

    assert jobs.run("reviews.launch", START + _dt.timedelta(days=1))["started"] == 0  # idempotent
    demo.config["REVIEW_DEFAULT_OUTCOME"] = "keep"  # the deadline keeps whatever is undecided
    # closed at the deadline, the period is still done: nothing new until the next half-year
    jobs.run("reviews.deadlines", START + _dt.timedelta(days=40))
    assert jobs.run("reviews.launch", START + _dt.timedelta(days=41))["started"] == 0
    july = _dt.datetime(2027, 7, 1, 12, 0, tzinfo=_dt.UTC)
    clock.set_now(july)
    assert jobs.run("reviews.launch", july) == {"started": 2, "already": 1, "nothing_to_review": 3}
    assert sorted(r.period for r in _reviews("eser")) == ["2027-H1", "2027-H1", "2027-H2", "2027-H2"]


def test_a_review_started_by_hand_counts_for_its_period(demo, client):
    clock.set_now(START)
    grant(staffer("reader1"))
    db.session.commit()
    login(client, "coordinator")
    assert client.post("/api/v1/reviews", json={"org": "101", "application": "eser"}).status_code == 201
    result = jobs.run("reviews.launch", START + _dt.timedelta(hours=1))
    assert result["started"] == 1  # EdLink at 101 only; eSER at 101 already has this half-year's review
    assert [r.origin for r in _reviews("eser")] == ["coordinator"]


def test_reminders_go_before_the_deadline_once_each(demo):
    clock.set_now(START)
    grant(staffer("reader1"))
    db.session.commit()
    jobs.run("reviews.launch", START)
    due = _reviews("eser")[0].due_at
    assert jobs.run("reviews.deadlines", due - _dt.timedelta(days=8))["reminded"] == 0
    assert jobs.run("reviews.deadlines", due - _dt.timedelta(days=7))["reminded"] == 2  # eSER and EdLink at 101
    assert jobs.run("reviews.deadlines", due - _dt.timedelta(days=6))["reminded"] == 0
    assert jobs.run("reviews.deadlines", due - _dt.timedelta(hours=20))["reminded"] == 2
    assert jobs.run("reviews.deadlines", due - _dt.timedelta(hours=1))["reminded"] == 0
    assert len(notes("supervisor", "review.reminder")) == 2  # eSER only: the supervisor reviews no EdLink grants
    assert len(notes("coordinator", "review.reminder")) == 4


def test_helpers_recommend_removal_and_say_why(demo):
    clock.set_now(START)
    gone = staffer("gone1", status="terminated")
    moved = staffer("moved1", sites=("101001",))
    idle = staffer("idle1", signed_in_days_ago=120)
    fresh = staffer("fresh1", signed_in_days_ago=None)
    for user in (gone, moved, idle):
        grant(user)
    grant(fresh, days_ago=10)  # never signed in, but granted ten days ago
    db.session.commit()
    jobs.run("reviews.launch", START)
    review = _reviews("eser")[0]
    advice = {i.user.username: h for i, h in
              ((i, h) for i in review.items for h in [helpers.compute([i], "eser", review.lea_id)[i.id]])}
    assert advice["gone1"].recommendation == "remove" and "HR status is terminated" in advice["gone1"].reasons
    assert advice["moved1"].reasons == ["no longer assigned to 101002"] and not advice["moved1"].org_matches
    assert advice["idle1"].reasons == ["no sign-in for 120 days"]
    assert advice["fresh1"].recommendation == "keep" and advice["fresh1"].last_sign_in is None


def test_last_use_comes_from_the_audit_trail(demo):
    import audit
    clock.set_now(START - _dt.timedelta(days=5))
    reader = staffer("reader1")
    audit.record("ser.student.viewed", reader, ("student", "S1"), "101002", {})
    audit.record("user.login", reader, None, None, {})
    clock.set_now(START)
    grant(reader)
    db.session.commit()
    jobs.run("reviews.launch", START)
    review = _reviews("eser")[0]
    item = next(i for i in review.items if i.user_id == reader.id)
    assert helpers.compute([item], "eser", review.lea_id)[item.id].last_use == START - _dt.timedelta(days=5)


def test_the_report_for_auditors_in_csv_and_excel(demo, client):
    from openpyxl import load_workbook
    clock.set_now(START)
    grant(staffer("reader1"))
    db.session.commit()
    jobs.run("reviews.launch", START)
    review = _reviews("eser")[0]
    login(client, "auditor")
    resp = client.get(f"/api/v1/reviews/{review.id}/report?format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert {r["Username"] for r in rows} == {"reader1", "supervisor"}
    reader = next(r for r in rows if r["Username"] == "reader1")
    assert (reader["Location Code"], reader["Role Code"], reader["HR Status"], reader["State"]) == (
        "101002", "eser.reader", "active", "undecided")
    resp = client.get(f"/api/v1/reviews/{review.id}/report?format=xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    sheet = book["Items"]
    assert sheet.cell(1, 1).value == "Item" and sheet.max_row == 3
    assert book["Review"].cell(1, 2).value == review.label
    assert client.get(f"/api/v1/reviews/{review.id}/report?format=pdf").status_code == 422
    assert [e.details["format"] for e in events("report.generated")] == ["csv", "xlsx"]
    client.post("/logout")
    login(client, "teacher")
    assert client.get(f"/api/v1/reviews/{review.id}/report").status_code == 404


def test_an_item_whose_grant_ended_elsewhere_is_settled_as_such(demo, client):
    from roles.grants import revoke
    clock.set_now(START)
    reader = grant(staffer("reader1"))
    db.session.commit()
    jobs.run("reviews.launch", START)
    review = _reviews("eser")[0]
    revoke(db.session.merge(reader), actor="system:test", reason="left")
    db.session.commit()
    item = db.session.execute(db.select(ReviewItem).where(ReviewItem.grant_id == reader.id)).scalar_one()
    login(client, "coordinator")
    resp = client.post(f"/api/v1/reviews/items/{item.id}/decision", json={"decision": "certify"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "grant_ended"
    progress = client.get(f"/api/v1/reviews/{review.id}").get_json()["progress"]
    assert (progress["ended"], progress["undecided"]) == (1, 1)  # the supervisor's grant is still to decide
    ended = client.get(f"/api/v1/reviews/{review.id}/items?state=ended").get_json()["items"]
    assert [i["user"] for i in ended] == ["reader1"] and ended[0]["state"] == "ended"
    demo.config["REVIEW_REMOVAL_GUARD"] = 1.0
    jobs.run("reviews.deadlines", review.due_at + _dt.timedelta(minutes=1))
    db.session.expire_all()
    item = db.session.get(ReviewItem, item.id)
    assert item.decision is None and item.ended_elsewhere == "revoked"
    assert get_user("reader1").id == item.user_id


def test_the_jobs_run_from_the_command_line(demo):
    from edlink.cli import main
    clock.set_now(START)
    grant(staffer("reader1"))
    db.session.commit()
    clock.set_now(None)
    runner = demo.test_cli_runner()
    result = runner.invoke(main, ["jobs", "run", "reviews.launch", "--now", "2027-03-01T15:00:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "reviews.launch: started 2, already 0, nothing_to_review 4"
    result = runner.invoke(main, ["jobs", "run", "reviews.deadlines", "--now", "2027-04-02T12:00:00Z"])
    assert result.output.strip() == "reviews.deadlines: closed 0, held 2, reminded 0"
    assert {"reviews.launch", "reviews.deadlines"} <= set(runner.invoke(main, ["jobs", "list"]).output.split())


def test_a_lone_reviewer_reviewing_their_own_grant_brings_in_the_state(demo):
    clock.set_now(START)
    jobs.run("reviews.launch", START)  # EdLink at 101: the coordinator's own grant and the data manager's
    [review] = _reviews("edlink")
    assert {i.user.username for i in review.items} == {"coordinator", "datamanager"}
    assert notes("coordinator", "review.started") and notes("stateadmin", "review.started")


def test_helpers_name_who_approved_a_requested_grant(demo, client):
    from edlink.orgs import get_org
    from workflows import decisions
    from workflows.requests import submit
    clock.set_now(START)
    request = submit(get_user("teacher"), "eser.reader", get_org("101002"), "reading records for my class")
    decisions.approve(get_user("supervisor"), request, "caseload confirmed")
    decisions.approve(get_user("coordinator"), request)
    db.session.commit()
    login(client, "coordinator")
    review = client.post("/api/v1/reviews", json={"org": "101", "application": "eser"}).get_json()
    items = client.get(f"/api/v1/reviews/{review['id']}/items?person=teacher").get_json()["items"]
    [item] = items
    assert item["helpers"]["approved_by"] == [
        "Special Education Supervisor: supervisor (2027-03-01)", "Security Coordinator: coordinator (2027-03-01)"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/reviews", "/api/v1/reviews/{review_id}/items",
            "/api/v1/reviews/items/{item_id}/decision"} <= set(spec["paths"])
