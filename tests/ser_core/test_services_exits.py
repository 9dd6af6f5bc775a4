"""Services (add, terminate, provider change), the special education activity's exit and the
termination/exit consistency rules of seed 003, each with its exact message; the provider bulk
update; post-school transition requirements."""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink.extensions import db
from ser_core.access import find_student
from ser_core.models_iep import SpedActivity
from tests.conftest import login
from tests.ser_core.conftest import AVERY, BLAIR, TODAY, events

D = _dt.timedelta(days=1)
PROVIDER, OTHER, GONE = "1000000015", "1000000019", "1000000010"  # active, active, terminated staff


@pytest.fixture
def writer(ser, client):
    login(client, "serwriter")
    return client


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _error(resp, status=422):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()["error"]


def _service(client, state_id=AVERY, days_ago=40, provider=PROVIDER, kind="Speech/Language"):
    return _ok(client.post(f"/api/v1/ser/students/{state_id}/services", json={
        "service_type": kind, "provider_staff_id": provider, "begin_date": (TODAY - days_ago * D).isoformat()}), 201)


def _terminate(client, service_id, reason, days_ago=5, state_id=AVERY):
    return client.post(f"/api/v1/ser/students/{state_id}/services/{service_id}/terminate",
                       json={"end_date": (TODAY - days_ago * D).isoformat(), "termination_reason": reason})


def _activity(state_id=AVERY, days_ago=100):
    student = find_student(state_id)
    db.session.add(SpedActivity(student_id=student.id, lea_id=student.lea_id, begin_date=TODAY - days_ago * D))
    db.session.commit()


def _exit(client, reason, days_ago=5, state_id=AVERY):
    return client.post(f"/api/v1/ser/students/{state_id}/exit",
                       json={"exit_date": (TODAY - days_ago * D).isoformat(), "exit_reason": reason})


def test_add_service_defaults_and_provider_rules(writer):
    made = _service(writer)
    assert made["recipient"] == "Student" and made["provider_name"] == "Demo SER Reader"
    assert _error(writer.post(f"/api/v1/ser/students/{AVERY}/services", json={
        "service_type": "Speech/Language", "provider_staff_id": "123-45-6789",
        "begin_date": TODAY.isoformat()}))["message"] == (
        "Do not use an SSN for the Service Provider: enter the provider's 10-digit staff ID.")
    assert _error(writer.post(f"/api/v1/ser/students/{AVERY}/services", json={
        "service_type": "Special Transportation", "provider_staff_id": GONE,
        "begin_date": TODAY.isoformat()}))["message"] == (
        "The Service Provider (Demo Former Employee) is not active in the staff directory.")
    _service(writer, kind="Special Transportation", days_ago=10)
    listed = _ok(writer.get(f"/api/v1/ser/students/{AVERY}/services"))["services"]
    assert [s["service_type"] for s in listed] == ["Special Transportation", "Speech/Language"]  # most recent first
    assert events("ser.service.added", "serwriter")[-1].details["service_type"] == "Special Transportation"


def test_terminate_needs_date_and_one_of_the_seven_reasons(writer):
    made = _service(writer)
    url = f"/api/v1/ser/students/{AVERY}/services/{made['id']}/terminate"
    assert _error(writer.post(url, json={"termination_reason": "Moved out of State"}))["message"] == (
        "End Date is required when the service is terminated.")
    assert _error(writer.post(url, json={"end_date": TODAY.isoformat(), "termination_reason": "Bored"}))[
        "message"] == "Choose a Termination Reason from the list."
    assert _error(_terminate(writer, made["id"], "Moved out of State", days_ago=60))["message"] == (
        f"The End Date cannot be before the service's Begin Date ({TODAY - 40 * D:%m/%d/%Y}).")
    done = _ok(_terminate(writer, made["id"], "Moved out of State"))
    assert done["termination_reason"] == "Moved out of State" and done["end_date"] == (TODAY - 5 * D).isoformat()
    assert events("ser.service.terminated")[-1].details["termination_reason"] == "Moved out of State"


def test_provider_change_terminates_and_adds(writer):
    made = _service(writer)
    added = _ok(writer.post(f"/api/v1/ser/students/{AVERY}/services/{made['id']}/provider-change",
                            json={"new_provider_staff_id": OTHER, "end_date": (TODAY - 3 * D).isoformat()}), 201)
    assert added["provider_staff_id"] == OTHER and added["replaces"] == made["id"]
    assert added["begin_date"] == (TODAY - 2 * D).isoformat()
    listed = _ok(writer.get(f"/api/v1/ser/students/{AVERY}/services"))["services"]
    assert [(s["provider_staff_id"], s["termination_reason"]) for s in listed] == [
        (OTHER, None), (PROVIDER, "Service Provider Change")]


@pytest.mark.parametrize(("termination", "exit_reason", "message"), [
    ("Revocation of Consent", "Transferred to Regular Education",
     "Services terminated with Revocation of Consent require the exit Revocation of Consent."),
    ("Withdrawal of Parental Approval", "Revocation of Consent",
     "The exit Revocation of Consent requires the services to be terminated with Revocation of Consent; a service "
     "was terminated with Withdrawal of Parental Approval."),
    ("Moved/Transferred within the State/LEA", "Transferred to Regular Education",
     "Services terminated with Moved/Transferred within the State/LEA require no special education activity exit; "
     "only when the student never showed up at the new school is the exit Dropped Out."),
    ("Moved out of State", "Dropped Out",
     "Services terminated with Moved out of State require the exit Moved Out of State/Known to be Continuing "
     "(after a records request from the out-of-state school)."),
    ("Progress Indicates Services No Longer Needed", "Dropped Out",
     "Services terminated with Progress Indicates Services No Longer Needed cannot end with the exit Dropped Out; "
     "the exit must be one of: High School Diploma (Regular Assessment); High School Diploma (Alternate Assessment "
     "- Jumpstart); High School Diploma (Alternate Assessment - Grandfathered); Non-Diploma Certificate of "
     "Achievement; Louisiana High School Equivalency Diploma (LHSD); Non-Diploma (LHSD) & Industry Based Skills "
     "Certificate; Non-Diploma (LHSD) & State Approved Skills Certificate; Reached 22nd Birthday or Previously "
     "Earned Diploma; Transferred to Regular Education."),
    ("Health Prevents Continuation", "Moved Out of State/Known to be Continuing",
     "Services terminated with Health Prevents Continuation cannot end with the exit Moved Out of State/Known to be "
     "Continuing; the exit must be one of: Transferred to Regular Education; Dropped Out; Death."),
])
def test_exit_must_agree_with_the_termination(writer, termination, exit_reason, message):
    _activity()
    made = _service(writer)
    _ok(_terminate(writer, made["id"], termination))
    refused = _error(_exit(writer, exit_reason))
    assert (refused["code"], refused["message"]) == ("exit_mismatch", message)
    assert _ok(writer.get(f"/api/v1/ser/students/{AVERY}/activity"))["activity"][0]["exit_date"] is None


@pytest.mark.parametrize(("termination", "exit_reason", "terminal"), [
    ("Revocation of Consent", "Revocation of Consent", True),
    ("Moved out of State", "Moved Out of State/Known to be Continuing", False),
    ("Moved/Transferred within the State/LEA", "Dropped Out", False),
    ("Progress Indicates Services No Longer Needed", "High School Diploma (Regular Assessment)", True),
    ("Progress Indicates Services No Longer Needed", "Non-Diploma Certificate of Achievement", False),
    ("Health Prevents Continuation", "Death", True),
    ("Withdrawal of Parental Approval", "Transferred to Regular Education", True),
])
def test_exit_that_agrees_closes_the_activity(writer, termination, exit_reason, terminal):
    _activity()
    made = _service(writer)
    _ok(_terminate(writer, made["id"], termination))
    closed = _ok(_exit(writer, exit_reason))
    assert (closed["exit_reason"], closed["terminal"]) == (exit_reason, terminal)
    assert events("ser.activity.closed")[-1].details["terminal"] is terminal


def test_exit_rules(writer):
    assert _error(_exit(writer, "Dropped Out"), 409)["message"] == (
        "The student has no open special education activity to close.")
    _activity()
    made = _service(writer)
    assert _error(_exit(writer, "Dropped Out"))["message"] == (
        "Terminate the student's open services before closing the special education activity: Speech/Language.")
    _ok(_terminate(writer, made["id"], "Withdrawal of Parental Approval", days_ago=5))
    assert _error(_exit(writer, "Dropped Out", days_ago=8))["message"] == (
        f"The Exit Date cannot be before the services ended ({TODAY - 5 * D:%m/%d/%Y}).")
    assert _error(_exit(writer, "Graduated"))["message"] == "Choose an Exit Reason from the list."


def test_bulk_update_reports_the_invalid_student_and_updates_the_others(writer):
    avery = _service(writer, AVERY, days_ago=40)
    blair = _service(writer, BLAIR, days_ago=2)  # begins after the change date: cannot be terminated then
    caseload = _ok(writer.get(f"/api/v1/ser/tools/provider-bulk-update?old_provider_staff_id={PROVIDER}"))
    assert [s["student_name"] for s in caseload["services"]] == ["Blair Lakewood", "Avery Pinewood"]
    result = _ok(writer.post("/api/v1/ser/tools/provider-bulk-update", json={
        "old_provider_staff_id": PROVIDER, "new_provider_staff_id": OTHER, "end_date": (TODAY - 5 * D).isoformat()}))
    assert (result["updated"], result["failed"]) == (1, 1)
    by_name = {r["student_name"]: r for r in result["results"]}
    assert by_name["Avery Pinewood"]["ok"] is True and by_name["Avery Pinewood"]["message"] == "Updated"
    assert by_name["Blair Lakewood"] == {
        "service_id": blair["id"], "state_id": BLAIR, "student_name": "Blair Lakewood",
        "service_type": "Speech/Language", "ok": False, "new_service_id": None,
        "message": f"The End Date cannot be before the service's Begin Date ({TODAY - 2 * D:%m/%d/%Y})."}
    avery_now = _ok(writer.get(f"/api/v1/ser/students/{AVERY}/services"))["services"]
    assert [(s["provider_staff_id"], s["termination_reason"]) for s in avery_now] == [
        (OTHER, None), (PROVIDER, "Service Provider Change")]
    assert avery_now[1]["id"] == avery["id"]
    blair_now = _ok(writer.get(f"/api/v1/ser/students/{BLAIR}/services"))["services"]
    assert [(s["provider_staff_id"], s["end_date"]) for s in blair_now] == [(PROVIDER, None)]
    summary = events("ser.bulk_update", "serwriter")[-1].details
    assert summary["updated"] == 1 and summary["failed"][0]["state_id"] == BLAIR


def test_bulk_update_caseload_stays_in_scope(ser, client):
    login(client, "serwriter")
    _service(client, AVERY)
    client.post("/logout")
    login(client, "harborwriter")
    assert _ok(client.get(f"/api/v1/ser/tools/provider-bulk-update?old_provider_staff_id={PROVIDER}"))[
        "services"] == []


def test_pst_requirements(writer):
    url = f"/api/v1/ser/students/{AVERY}/pst"
    _activity(days_ago=800)
    assert _error(writer.post(f"{url}/initial_exit", json={"survey_date": TODAY.isoformat()}), 409)["message"] == (
        "Exit data has to be complete before Post-School Transition data can be entered: close the special "
        "education activity with its exit date and exit reason first.")
    made = _service(writer, days_ago=700)
    _ok(_terminate(writer, made["id"], "Progress Indicates Services No Longer Needed", days_ago=400))
    _ok(_exit(writer, "High School Diploma (Regular Assessment)", days_ago=400))
    exit_day = TODAY - 400 * D
    assert _ok(writer.get(url))["exits"][0]["owed"] == ["initial_exit", "one_year"]
    assert _error(writer.post(f"{url}/one_year", json={"survey_date": TODAY.isoformat()}), 409)["message"] == (
        "Enter the Initial Exit survey before the One Year Exit Follow-up.")
    assert _error(writer.post(f"{url}/initial_exit", json={"survey_date": exit_day.isoformat()}))["message"] == (
        "Answer every question of the survey, or enter “unable to contact”.")
    first = _ok(writer.post(f"{url}/initial_exit", json={"survey_date": exit_day.isoformat(),
                                                         "unable_to_contact": True}), 201)
    assert first["unable_to_contact"] is True
    assert _error(writer.post(f"{url}/one_year", json={"survey_date": (exit_day + 100 * D).isoformat()}))[
        "message"] == f"The One Year Exit Follow-up is taken one year after the exit: from " \
                      f"{exit_day.replace(year=exit_day.year + 1):%m/%d/%Y}."
    answers = {"enrolled": "No", "other_training": "No", "worked": "Yes", "worked_90_days": "Yes", "hours_20": "Yes",
               "minimum_wage": "Yes", "integrated": "Yes"}
    second = _ok(writer.post(f"{url}/one_year", json={"survey_date": TODAY.isoformat(), **answers}), 201)
    assert second["work_type"] == "Competitive Integrated Employment"
    assert _ok(writer.get(url))["exits"][0]["owed"] == []
    assert [e.details["kind"] for e in events("ser.pst.recorded")] == ["initial_exit", "one_year"]


def test_pst_not_required_after_other_exits(writer):
    _activity()
    made = _service(writer)
    _ok(_terminate(writer, made["id"], "Moved out of State"))
    _ok(_exit(writer, "Moved Out of State/Known to be Continuing"))
    assert _error(writer.post(f"/api/v1/ser/students/{AVERY}/pst/initial_exit",
                              json={"survey_date": TODAY.isoformat()}), 409)["message"] == (
        "The exit Moved Out of State/Known to be Continuing does not require a Post-School Transition survey.")
