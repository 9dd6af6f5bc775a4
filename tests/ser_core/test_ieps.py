"""IEPs: draft, forms, validation (errors, warnings, passes with their codes), official, submit
(permission and 403), amendments with their rules and kept versions."""
from __future__ import annotations

import pytest

from tests.conftest import login
from tests.ser_core.conftest import AVERY, TODAY, events
from tests.ser_core.ieps_world import COMPLETE, D, evaluated, general


@pytest.fixture
def writer(ser, client):
    evaluated()
    login(client, "iepsubmitter")
    return client


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _error(resp, status):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()["error"]


def _new(client, **body):
    return _ok(client.post(f"/api/v1/ser/students/{AVERY}/ieps", json={"iep_type": "initial", **body}), 201)


def _fill(client, iep_id, forms=COMPLETE, meeting_days_ago=10):
    _ok(client.put(f"/api/v1/ser/ieps/{iep_id}/forms/general", json=general(meeting_days_ago)))
    for code, data in forms.items():
        _ok(client.put(f"/api/v1/ser/ieps/{iep_id}/forms/{code}", json=data))


def _official(client, **forms):
    iep = _new(client)
    _fill(client, iep["id"], {**COMPLETE, **forms})
    return _ok(client.post(f"/api/v1/ser/ieps/{iep['id']}/official"))


def test_draft_has_the_required_forms_and_one_iep_in_progress(writer):
    iep = _new(writer)
    assert iep["status"] == "draft" and iep["submitted_to_ser"] == "N"
    assert [f["code"] for f in iep["forms"]] == ["general", "present_levels", "goals", "program_services",
                                                 "assessment", "signatures"]
    again = _error(writer.post(f"/api/v1/ser/students/{AVERY}/ieps", json={"iep_type": "annual"}), 409)
    assert again["message"] == (f"The student already has an IEP in progress (Draft, IEP {iep['id']}); finish it "
                                "before adding another.")
    assert events("ser.iep.created", "iepsubmitter")[-1].details["iep_id"] == iep["id"]


def test_validation_lists_errors_warnings_and_passes_per_form(writer):
    iep = _new(writer)
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/general", json=general()))
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/present_levels", json={"academic": "Reads at grade 3."}))
    result = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))
    status = {f["code"]: f["status"] for f in result["forms"]}
    assert status == {"general": "pass", "present_levels": "warning", "goals": "error", "program_services": "error",
                      "assessment": "error", "signatures": "error"}
    assert set(result["errors"]) == {"IEP-E020", "IEP-E030", "IEP-E031", "IEP-E032", "IEP-E040", "IEP-E050"}
    assert set(result["warnings"]) == {"IEP-W011", "IEP-W021", "IEP-W051"}
    goals = next(f for f in result["forms"] if f["code"] == "goals")
    assert goals["findings"][0] == {"level": "error", "code": "IEP-E020",
                                    "message": "No measurable annual goal is entered.",
                                    "solution": "Enter at least one measurable annual goal."}
    assert result["can_make_official"] is False
    refused = _error(writer.post(f"/api/v1/ser/ieps/{iep['id']}/official"), 409)
    assert refused["code"] == "iep_has_errors"
    assert refused["message"].startswith("The IEP cannot be made official until its errors are resolved (")
    assert events("ser.iep.validated")[-1].details["errors"] == result["errors"]


def test_general_information_rules(writer):
    iep = _new(writer)
    late = (TODAY + D).isoformat()
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/general",
                   json={"team_meeting_date": late, "begin_date": late, "end_date": (TODAY + 400 * D).isoformat()}))
    codes = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))["errors"]
    assert codes[:2] == ["IEP-E002", "IEP-E004"]
    # the meeting before the eligibility determination (30 days ago): no eligible initial evaluation yet
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/general", json=general(meeting_days_ago=40)))
    result = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))
    assert "IEP-E005" in result["errors"]
    assert next(f for f in result["forms"] if f["code"] == "general")["findings"][0]["message"] == (
        "An initial IEP needs an initial evaluation with an Eligibility Determination Date on or before the Team "
        "Meeting Date.")


def test_late_initial_iep_is_a_warning(ser, client):
    evaluated(eligible_days_ago=50)
    login(client, "iepsubmitter")
    iep = _new(client)
    _fill(client, iep["id"], meeting_days_ago=10)  # 40 calendar days after eligibility
    result = _ok(client.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))
    assert result["errors"] == [] and "IEP-W006" in result["warnings"]
    assert result["can_make_official"] is True
    assert _ok(client.post(f"/api/v1/ser/ieps/{iep['id']}/official"))["status"] == "official"


def test_transition_plan_from_16(ser, client):
    from edlink.extensions import db
    from ser_core.access import find_student
    evaluated()
    login(client, "iepsubmitter")
    iep = _new(client)
    _fill(client, iep["id"])
    student = find_student(AVERY)
    student.birth_date = TODAY.replace(year=TODAY.year - 16) + 100 * D  # 16 before the IEP ends
    db.session.commit()
    result = _ok(client.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))
    assert result["errors"] == ["IEP-E060"]
    _ok(client.put(f"/api/v1/ser/ieps/{iep['id']}/forms", json={"forms": ["transition"]}))
    assert _ok(client.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))["errors"] == ["IEP-E061"]


def test_official_then_submit_opens_the_activity(writer):
    iep = _official(writer)
    assert iep["status"] == "official" and iep["versions"][0]["version"] == 1
    done = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/submit"))
    assert done["submitted"] is True and done["submitted_to_ser"] == "Y"
    listed = _ok(writer.get(f"/api/v1/ser/students/{AVERY}/ieps"))["ieps"]
    assert [(i["id"], i["submitted_to_ser"]) for i in listed] == [(iep["id"], "Y")]
    activity = _ok(writer.get(f"/api/v1/ser/students/{AVERY}/activity"))["activity"]
    assert [(a["begin_date"], a["exit_date"]) for a in activity] == [(general()["begin_date"], None)]
    assert events("ser.activity.opened")[-1].details["iep_id"] == iep["id"]
    again = _error(writer.post(f"/api/v1/ser/ieps/{iep['id']}/submit"), 409)
    assert again["message"] == "This version of the IEP is already submitted to SER."


def test_only_official_ieps_are_submitted(writer):
    iep = _new(writer)
    refused = _error(writer.post(f"/api/v1/ser/ieps/{iep['id']}/submit"), 409)
    assert refused["message"] == "Only an official IEP can be submitted to SER; make it official first."


def test_submit_needs_the_permission(ser, client):
    evaluated()
    login(client, "iepwriter")
    iep = _official(client)
    refused = _error(client.post(f"/api/v1/ser/ieps/{iep['id']}/submit"), 403)
    assert refused["code"] == "forbidden"
    denied = events("authz.denied", "iepwriter")[-1]
    assert denied.details["permission"] == "eser.iep.submit"
    assert _ok(client.get(f"/api/v1/ser/ieps/{iep['id']}"))["submitted"] is False


def test_data_writer_without_iep_forms_cannot_create(ser, client):
    evaluated()
    login(client, "serwriter")
    assert _error(client.post(f"/api/v1/ser/students/{AVERY}/ieps", json={"iep_type": "initial"}), 403)


def test_forms_added_and_removed(writer):
    iep = _new(writer)
    after = _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms", json={"forms": ["site_determination", "esy"]}))
    assert [f["code"] for f in after["forms"]][-2:] == ["esy", "site_determination"]
    _fill(writer, iep["id"])
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/site_determination", json={"site_code": "102001"}))
    result = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))
    site = next(f for f in result["forms"] if f["code"] == "site_determination")
    assert [x["code"] for x in site["findings"]] == ["IEP-E080", "IEP-E081"]
    assert site["findings"][0]["message"] == "The Site Code is missing or is not a site of this LEA."
    after = _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms", json={"forms": ["esy"]}))
    assert "site_determination" not in [f["code"] for f in after["forms"]]
    assert events("ser.iep.forms_changed")[-1].details == {
        "state_id": AVERY, "iep_id": iep["id"], "added": [], "removed": ["site_determination"]}


def test_amendment_rules_and_versions(writer):
    iep = _official(writer)
    _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/submit"))
    amended = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/amend"))
    assert amended["status"] == "amended_draft" and amended["status_name"] == "Amended-Draft"
    assert amended["version"] == 2 and amended["submitted_to_ser"] == "N"
    assert "amendments" in [f["code"] for f in amended["forms"]]
    result = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/validate"))
    form = next(f for f in result["forms"] if f["code"] == "amendments")
    assert [(x["code"], x["message"]) for x in form["findings"]] == [
        ("IEP-E090", "How the parent was informed of the change is missing."),
        ("IEP-E091", "The explanation of what was changed and why is missing."),
        ("IEP-E092", "The Amendment Date is missing, before the Team Meeting Date or in the future.")]
    moved = _error(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/general",
                              json={"team_meeting_date": TODAY.isoformat()}), 422)
    assert moved["message"] == "The Team Meeting Date does not change with amendments."
    still = _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms", json={"forms": []}))
    assert "amendments" in [f["code"] for f in still["forms"]]
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/amendments", json={
        "amendment_date": TODAY.isoformat(), "parent_contact_method": "Telephone",
        "explanation": "Speech minutes raised from 30 to 60 a week after the progress review."}))
    _ok(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/goals", json={"goal": "A changed goal."}))
    second = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/official"))
    assert second["status"] == "official" and second["team_meeting_date"] == general()["team_meeting_date"]
    assert [v["version"] for v in second["versions"]] == [2, 1]
    assert second["versions"][1]["content"]["forms"]["goals"]["goal"] == COMPLETE["goals"]["goal"]
    assert second["versions"][0]["content"]["forms"]["goals"]["goal"] == "A changed goal."
    third = _ok(writer.post(f"/api/v1/ser/ieps/{iep['id']}/amend"))
    assert third["version"] == 3
    form = next(f for f in third["forms"] if f["code"] == "amendments")
    assert form["data"] == {}  # each amendment documents its own change
    assert [e.details["version"] for e in events("ser.iep.amended")] == [2, 3]


def test_official_iep_is_not_edited_in_place(writer):
    iep = _official(writer)
    refused = _error(writer.put(f"/api/v1/ser/ieps/{iep['id']}/forms/goals", json={"goal": "x"}), 409)
    assert refused["message"] == "This IEP is official: amend it to make changes."
