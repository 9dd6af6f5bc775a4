"""Acceptance: a reader at LEA A finds and opens A's students (a nonpublic school A serves
included) and is refused — 403, audited — a student of LEA B by search, by URL and by API; after
B's jurisdiction ends and A claims the student, A sees it and B no longer does."""
from __future__ import annotations

import datetime as _dt

from edlink.extensions import db
from edlink.users import get_user
from ser_core import jurisdiction
from ser_core.access import find_student
from ser_core.models import SerService
from tests.conftest import login
from tests.ser_core.conftest import AVERY, BLAIR, CASEY, DEVON, ELLIS, TODAY, events


def _ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return [s["state_id"] for s in resp.get_json()["students"]]


def test_reader_at_a_finds_and_opens_a_students_including_the_nonpublic_school_a_serves(ser, client):
    login(client, "serreader")
    assert _ids(client.get("/api/v1/ser/students")) == [BLAIR, AVERY]  # by last name: Lakewood, Pinewood
    assert _ids(client.get("/api/v1/ser/students?q=Blair Lakewood")) == [BLAIR]
    assert _ids(client.get("/api/v1/ser/students?q=lakewood, bl")) == [BLAIR]
    assert _ids(client.get(f"/api/v1/ser/students?q={AVERY}")) == [AVERY]
    assert _ids(client.get("/api/v1/ser/students?q=Harbison")) == []  # B's students are not in A's results
    assert _ids(client.get("/api/v1/ser/students?school=NP1011")) == [BLAIR]
    assert _ids(client.get("/api/v1/ser/students?dob=2012-03-14&gender=F")) == [AVERY]

    blair = client.get(f"/api/v1/ser/students/{BLAIR}").get_json()
    assert (blair["school"], blair["lea"], blair["jurisdiction_open"]) == ("NP1011", "101", True)
    assert blair["first_name"] == "Blair" and blair["suffix"] == "Jr" and blair["race"] == "Asian"
    viewed = events("ser.student.viewed", "serreader")
    assert [(e.target_id, e.org_code, e.details["section"]) for e in viewed] == [(BLAIR, "101", "profile")]


def test_inactive_records_appear_only_when_asked(ser, client):
    login(client, "serreader")
    assert ELLIS not in _ids(client.get("/api/v1/ser/students?q=Oldfield"))
    found = client.get("/api/v1/ser/students?q=Oldfield&inactive=true").get_json()["students"]
    assert [(s["state_id"], s["inactive"]) for s in found] == [(ELLIS, True)]
    # an inactive record of one's own LEA still opens
    assert client.get(f"/api/v1/ser/students/{ELLIS}").status_code == 200


def test_b_student_is_refused_by_search_url_and_api_and_each_refusal_is_audited(ser, client):
    login(client, "serreader")
    by_search = client.get(f"/api/v1/ser/students?q={CASEY}")
    assert by_search.status_code == 403 and by_search.get_json()["error"]["code"] == "forbidden"
    by_api = client.get(f"/api/v1/ser/students/{CASEY}")
    assert by_api.status_code == 403
    assert "eser.student.read at 102001" in by_api.get_json()["error"]["message"]
    denied = events("authz.denied", "serreader")
    assert [(e.org_code, e.details["permission"]) for e in denied] == [("102001", "eser.student.read")] * 2
    assert events("ser.student.viewed", "serreader") == []


def test_after_b_ends_and_a_claims_a_sees_the_student_and_b_no_longer_does(ser, client):
    casey = find_student(CASEY)
    service = db.session.execute(db.select(SerService).where(SerService.student_id == casey.id)).scalar_one()
    service.end_date = TODAY - _dt.timedelta(days=2)
    service.termination_reason = "Moved/Transferred within the State/LEA"
    db.session.commit()
    login(client, "serwriter")
    resp = client.post(f"/api/v1/ser/students/{CASEY}/jurisdiction",
                       json={"school_code": "101001", "begin_date": TODAY.isoformat(), "local_id": "PHS-0042"})
    assert resp.status_code == 201, resp.get_json()
    assert client.get(f"/api/v1/ser/students/{CASEY}").status_code == 200

    client.post("/logout")
    login(client, "serreader")
    assert CASEY in _ids(client.get("/api/v1/ser/students?q=Harbison"))
    assert client.get(f"/api/v1/ser/students/{CASEY}").status_code == 200

    client.post("/logout")
    login(client, "harborwriter")
    assert _ids(client.get("/api/v1/ser/students?q=Harbison")) == [DEVON]
    assert client.get(f"/api/v1/ser/students/{CASEY}").status_code == 403
    history = jurisdiction.history(find_student(CASEY))
    assert [(j.lea.code, j.begin_date, j.end_date) for j in history] == [
        ("101", TODAY, None), ("102", TODAY - _dt.timedelta(days=60), TODAY - _dt.timedelta(days=1))]


def test_a_site_reader_sees_only_the_site(ser, client):
    from edlink.orgs import get_org
    from roles.grants import create_grant
    create_grant(get_user("teacher"), "eser.reader", get_org("101001"), source="demo", granted_by=None,
                 actor="system:test")
    db.session.commit()
    login(client, "teacher")
    assert _ids(client.get("/api/v1/ser/students")) == [AVERY]
    assert client.get(f"/api/v1/ser/students/{BLAIR}").status_code == 403


def test_someone_without_ser_access_is_refused_the_search(ser, client):
    login(client, "teacher")
    resp = client.get("/api/v1/ser/students?q=Pinewood")
    assert resp.status_code == 403
    assert events("authz.denied", "teacher")[-1].details["permission"] == "eser.student.read"


def test_bad_search_values_are_422_naming_the_field(ser, client):
    login(client, "serreader")
    resp = client.get("/api/v1/ser/students?dob=14/03/2012&gender=Q")
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"dob", "gender"}
