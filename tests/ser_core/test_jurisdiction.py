"""Jurisdiction: claims end the previous LEA's the day before, are refused against open services
(saying whom to contact), site transfers stay in the LEA, local IDs are never SSNs; and over
random claim sequences the periods never leave a gap or overlap."""
from __future__ import annotations

import datetime as _dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edlink.errors import Conflict, Forbidden, Invalid
from edlink.extensions import db
from edlink.users import get_user
from ser_core import jurisdiction, students
from ser_core.access import find_student
from ser_core.models import Jurisdiction
from tests.conftest import login
from tests.ser_core.conftest import AVERY, CASEY, DEVON, FINLEY, TODAY, events

DAY = _dt.timedelta(days=1)


def test_a_claim_ends_the_previous_jurisdiction_the_day_before(ser, client):
    login(client, "serwriter")
    begin = TODAY - 5 * DAY
    resp = client.post(f"/api/v1/ser/students/{DEVON}/jurisdiction",
                       json={"school_code": "101002", "begin_date": begin.isoformat()})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["kind"] == "claim" and resp.get_json()["lea"] == "101"
    rows = jurisdiction.history(find_student(DEVON))
    assert [(r.lea.code, r.site.code, r.begin_date, r.end_date, r.end_reason) for r in rows] == [
        ("101", "101002", begin, None, None),
        ("102", "102002", TODAY - 60 * DAY, begin - DAY, "claimed")]
    claimed = events("ser.jurisdiction.claimed", "serwriter")[-1]
    assert (claimed.target_id, claimed.org_code) == (DEVON, "101")
    assert claimed.details["from_lea"] == "102" and claimed.details["previous_end_date"] == (begin - DAY).isoformat()


def test_a_claim_against_open_services_is_refused_with_whom_to_contact(ser, client):
    login(client, "serwriter")
    resp = client.post(f"/api/v1/ser/students/{CASEY}/jurisdiction",
                       json={"school_code": "101001", "begin_date": TODAY.isoformat()})
    assert resp.status_code == 409
    error = resp.get_json()["error"]
    assert error["code"] == "open_services"
    assert error["message"] == ("Harbor City Schools (102) has open services for this student. Contact Harbor "
                                "City Schools to close the services before the student can be picked up.")
    assert error["fields"]["contact"] == {"lea_code": "102", "lea_name": "Harbor City Schools"}
    assert error["fields"]["open_services"] == ["Speech/Language"]
    assert find_student(CASEY).lea.code == "102"
    assert [e for e in events("ser.jurisdiction.claimed", "serwriter") if e.target_id == CASEY] == []


def test_the_registry_look_up_shows_who_has_the_student_and_open_services(ser, client):
    login(client, "serwriter")
    found = client.get(f"/api/v1/ser/registry/{CASEY}").get_json()
    assert found["registry"]["last_name"] == "Harbison"
    assert found["in_ser"] == {"lea": "102", "lea_name": "Harbor City Schools", "jurisdiction_open": True,
                               "open_services": True, "yours": False}
    assert client.get(f"/api/v1/ser/registry/{FINLEY}").get_json()["in_ser"] is None
    assert client.get("/api/v1/ser/registry/4999999999").status_code == 404
    client.post("/logout")
    login(client, "serreader")  # looking up to add or claim is for writers
    assert client.get(f"/api/v1/ser/registry/{FINLEY}").status_code == 403


def test_a_site_transfer_stays_in_the_lea_and_needs_no_service_check(ser):
    writer = get_user("harborwriter")
    casey = find_student(CASEY)  # open services at 102: a transfer inside 102 is not a claim
    record = jurisdiction.claim(casey, "102002", TODAY - DAY, "HC-77", writer)
    assert (record.kind, record.lea.code, record.site.code) == ("transfer", "102", "102002")
    assert casey.site.code == "102002"
    moved = events("ser.jurisdiction.transferred")[-1]
    assert moved.details["from_site"] == "102001" and moved.details["site"] == "102002"
    with pytest.raises(Invalid, match="already at Harbor City Elementary School"):
        jurisdiction.claim(casey, "102002", TODAY, None, writer)


@pytest.mark.parametrize("local_id", ["123-45-6789", "123456789", "123 45 6789"])
def test_a_local_id_shaped_like_an_ssn_is_refused(ser, client, local_id):
    login(client, "serwriter")
    resp = client.post(f"/api/v1/ser/students/{DEVON}/jurisdiction",
                       json={"school_code": "101002", "begin_date": TODAY.isoformat(), "local_id": local_id})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["message"] == "Do not use the student's SSN as the Local Student ID."
    assert resp.get_json()["error"]["fields"] == {"local_id": ["looks like an SSN"]}


def test_claim_form_rules(ser):
    writer = get_user("serwriter")
    devon = find_student(DEVON)
    with pytest.raises(Invalid, match="^School Code is required.$"):
        jurisdiction.claim(devon, "", TODAY, None, writer)
    with pytest.raises(Invalid, match="^Begin Date is required.$"):
        jurisdiction.claim(devon, "101001", None, None, writer)
    with pytest.raises(Invalid, match="^The Begin Date cannot be in the future.$"):
        jurisdiction.claim(devon, "101001", TODAY + DAY, None, writer)
    with pytest.raises(Invalid, match="must be after 09/03/2026, the begin date of the latest"):
        jurisdiction.claim(devon, "101001", TODAY - 60 * DAY, None, writer)
    with pytest.raises(Forbidden):  # the LEA is the writer's own: another LEA's school is refused
        jurisdiction.claim(devon, "103001", TODAY, None, writer)


def test_adding_a_student_from_the_registry(ser, client):
    login(client, "serwriter")
    resp = client.post("/api/v1/ser/students", json={"state_id": FINLEY, "primary_language": "English"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["lea"], body["school"], body["jurisdiction_open"]) == ("101", None, False)
    assert body["guardian_saved"] is False
    assert (body["first_name"], body["birth_date"], body["primary_language"]) == ("Finley", "2015-02-02", "English")
    created = events("ser.student.created", "serwriter")[-1]
    assert (created.target_id, created.org_code) == (FINLEY, "101")
    again = client.post("/api/v1/ser/students", json={"state_id": FINLEY})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_in_ser"
    taken = client.post("/api/v1/ser/students", json={"state_id": CASEY}).get_json()["error"]
    assert taken["message"] == ("Student 4000000003 is already in SER, under the jurisdiction of Harbor City "
                                "Schools (102). Claim jurisdiction for the student instead of adding it again.")
    missing = client.post("/api/v1/ser/students", json={"state_id": "4999999999"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_in_registry"
    bad = client.post("/api/v1/ser/students", json={"state_id": "12345"})
    assert bad.status_code == 422 and bad.get_json()["error"]["message"] == "A State ID is 10 digits."
    # then the jurisdiction record, at a school of the writer's LEA
    claim = client.post(f"/api/v1/ser/students/{FINLEY}/jurisdiction",
                        json={"school_code": "EC1012", "begin_date": TODAY.isoformat()})
    assert claim.status_code == 201 and claim.get_json()["kind"] == "claim"
    client.post("/logout")
    login(client, "serreader")
    assert client.post("/api/v1/ser/students", json={"state_id": FINLEY}).status_code == 403


def test_demographics_are_read_only_and_profile_changes_are_audited(ser, client):
    login(client, "serwriter")
    refused = client.patch(f"/api/v1/ser/students/{AVERY}", json={"last_name": "Other"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"] == ("Demographic information cannot be edited in SER. Any "
                                                      "corrections needed should be made in eScholar.")
    ok = client.patch(f"/api/v1/ser/students/{AVERY}", json={"phone": "225-555-0101", "city": "Pinecrest"})
    assert ok.status_code == 200 and ok.get_json()["phone"] == "225-555-0101"
    changed = events("ser.student.changed", "serwriter")[-1]
    assert changed.details["changed"] == {"phone": ["", "225-555-0101"], "city": ["", "Pinecrest"]}
    bad = client.patch(f"/api/v1/ser/students/{AVERY}", json={"zip_code": "7080"})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"zip_code": ["Zip Code is 5 digits (or 5+4)."]}


# -- the property: over any sequence of claims and transfers, no gap and no overlap ----------

SITES = ["101001", "101002", "NP1011", "EC1012", "102001", "102002"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(SITES), st.integers(-400, 0)), min_size=1, max_size=8))
def test_claims_never_leave_a_gap_or_an_overlap(ser, steps):
    """Each example: Pinecrest's writer adds Finley, then the writers of Pinecrest (101) and Harbor
    City (102) claim or transfer at random sites and begin dates; whatever is accepted forms one
    chain of periods; then it is rolled back."""
    writers = {"101": get_user("serwriter"), "102": get_user("harborwriter")}
    student = students.add_student(FINLEY, writers["101"])
    accepted = 0
    try:
        for site, offset in steps:
            try:
                jurisdiction.claim(student, site, TODAY + _dt.timedelta(days=offset), None,
                                   writers["102" if site.startswith("102") else "101"])
                accepted += 1
            except (Invalid, Conflict):
                pass
        rows = sorted(db.session.execute(db.select(Jurisdiction).where(Jurisdiction.student_id == student.id))
                      .scalars(), key=lambda r: r.begin_date)
        assert len(rows) == accepted >= 1  # the first claim always lands (no earlier record)
        for before, after in zip(rows, rows[1:], strict=False):
            assert before.end_date == after.begin_date - DAY  # no gap, no overlap
            assert before.begin_date <= before.end_date
            assert before.end_reason == ("transferred" if after.lea_id == before.lea_id else "claimed")
        assert rows[-1].end_date is None and sum(r.end_date is None for r in rows) == 1
        assert (student.lea_id, student.site_id, student.jurisdiction_open) == (rows[-1].lea_id, rows[-1].site_id, True)
    finally:
        db.session.rollback()


def test_unknown_profile_fields_are_refused(ser, client):
    login(client, "serwriter")
    resp = client.patch(f"/api/v1/ser/students/{AVERY}", json={"shoe_size": "9"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["message"] == "The profile has no field shoe_size."
