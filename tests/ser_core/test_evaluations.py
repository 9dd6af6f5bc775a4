"""Evaluations: the rules of the three types, each with the exact message a user sees; the
history most recent first; exceptionalities with exactly one primary; Close Jurisdiction when
the parent declines the initial evaluation."""
from __future__ import annotations

import datetime as _dt

import pytest

from ser_core import jurisdiction
from ser_core.access import find_student
from tests.conftest import login
from tests.ser_core.conftest import AVERY, TODAY, events

D = _dt.timedelta(days=1)
URL = f"/api/v1/ser/students/{AVERY}/evaluations"


@pytest.fixture
def writer(ser, client):
    login(client, "serwriter")
    resp = client.post(f"/api/v1/ser/students/{AVERY}/guardians",
                       json={"first_name": "Morgan", "last_name": "Pinewood", "relationship": "Mother"})
    assert resp.status_code == 201
    return client


def _error(resp, status=422):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()["error"]


def _iso(days_ago: int) -> str:
    return (TODAY - days_ago * D).isoformat()


def _initial(client, **extra):
    body = {"kind": "initial", "permission_request_date": _iso(50), "parent_decision": "consent",
            "decision_date": _iso(45), **extra}
    return client.post(URL, json=body)


def _complete(client, evaluation_id):
    resp = client.put(f"{URL}/{evaluation_id}", json={"completion_date": _iso(20), "eligibility_date": _iso(15)})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


# -- initial ------------------------------------------------------------------------------------

def test_initial_first_step_must_be_saved_before_the_rest(writer):
    message = ("Permission Request Date, Parent Decision and Decision/Start Date must be saved before you can "
               "enter the remaining evaluation information.")
    missing = _error(writer.post(URL, json={"kind": "initial", "permission_request_date": _iso(50)}))
    assert missing["message"] == message and set(missing["fields"]) == {"parent_decision", "decision_date"}
    too_soon = _error(_initial(writer, completion_date=_iso(20)))
    assert too_soon["message"] == message and set(too_soon["fields"]) == {"completion_date"}
    made = _initial(writer)
    assert made.status_code == 201
    assert made.get_json()["evaluation_date"] == _iso(45)  # the decision date until eligibility is determined
    done = _complete(writer, made.get_json()["id"])
    assert done["evaluation_date"] == _iso(15)
    assert events("ser.evaluation.added", "serwriter")[-1].org_code == "101"
    assert set(events("ser.evaluation.changed", "serwriter")[-1].details["changed"]) == {
        "completion_date", "eligibility_date", "evaluation_date"}


def test_initial_date_rules(writer):
    assert _error(_initial(writer, decision_date=_iso(55)))["message"] == (
        "The Decision/Start Date cannot be before the Permission Request Date.")
    assert _error(_initial(writer, permission_request_date=(TODAY + D).isoformat()))["message"] == (
        "Permission Request Date cannot be in the future.")
    made = _initial(writer).get_json()
    assert _error(writer.put(f"{URL}/{made['id']}", json={"eligibility_date": _iso(15)}))["message"] == (
        "Enter the Evaluation Completion Date before the Eligibility Determination Date.")
    assert _error(writer.put(f"{URL}/{made['id']}", json={"completion_date": _iso(20),
                                                          "eligibility_date": _iso(25)}))["message"] == (
        "The Eligibility Determination Date cannot be before the Evaluation Completion Date.")
    assert _error(_initial(writer, coordinator_staff_id="12345"))["message"] == (
        "The Evaluation Coordinator must be the 10-digit staff ID of a staff member in the staff directory.")
    assert _initial(writer, coordinator_staff_id="1000000016").status_code == 201  # optional, and known


def test_exceptionalities_need_exactly_one_primary(writer):
    made = _initial(writer).get_json()
    exc = f"{URL}/{made['id']}/exceptionalities"
    assert _error(writer.post(exc, json={"code": "Autism", "primary": False}))["message"] == (
        "A primary exceptionality must be selected.")
    assert writer.post(exc, json={"code": "Autism", "primary": True}).status_code == 201
    assert _error(writer.post(exc, json={"code": "Deafness", "primary": True}))["message"] == (
        "Only one exceptionality can be primary: Autism already is.")
    assert _error(writer.post(exc, json={"code": "Autism"}))["message"] == "Autism is already on this evaluation."
    assert _error(writer.post(exc, json={"code": "Wizardry"}))["message"] == "Choose an exceptionality from the list."
    both = writer.post(exc, json={"code": "Speech or Language Impairment", "detail": "Fluency"}).get_json()
    assert [(x["code"], x["primary"]) for x in both["exceptionalities"]] == [
        ("Autism", True), ("Speech or Language Impairment", False)]
    primary_id = both["exceptionalities"][0]["id"]
    assert _error(writer.delete(f"{exc}/{primary_id}"))["message"] == (
        "A primary exceptionality must be selected. Remove the other exceptionalities before the primary one.")


def test_declined_initial_takes_no_results_and_closes_jurisdiction(writer):
    made = _initial(writer, parent_decision="declined").get_json()
    assert _error(writer.put(f"{URL}/{made['id']}", json={"completion_date": _iso(20)}))["message"] == (
        "The parent declined the initial evaluation: use the Close Jurisdiction tab instead of entering "
        "evaluation results.")
    assert _error(writer.post(f"{URL}/{made['id']}/exceptionalities", json={"code": "Autism", "primary": True})
                  )["message"] == "Exceptionalities are entered for an initial evaluation the parent consented to."
    close = f"/api/v1/ser/students/{AVERY}/close-jurisdiction"
    assert _error(writer.post(close, json={}))["message"] == "Decline Date is required."
    closed = writer.post(close, json={"declined_on": _iso(40)})
    assert closed.status_code == 200 and closed.get_json()["jurisdiction_open"] is False
    record = jurisdiction.history(find_student(AVERY))[0]
    assert (record.end_date, record.end_reason) == (TODAY - 40 * D, "closed")
    assert events("ser.jurisdiction.closed", "serwriter")[-1].details["end_date"] == _iso(40)
    # the LEA still reads its closed record; another LEA may now claim without a gap rule to break
    assert writer.get(f"/api/v1/ser/students/{AVERY}").get_json()["jurisdiction_open"] is False


def test_close_jurisdiction_is_only_for_a_declined_initial(writer):
    _initial(writer)
    assert _error(writer.post(f"/api/v1/ser/students/{AVERY}/close-jurisdiction", json={"declined_on": _iso(1)})
                  )["message"] == "Close Jurisdiction is for an initial evaluation the parent declined."


# -- re-evaluation --------------------------------------------------------------------------------

def test_reevaluation_rules(writer):
    assert _error(writer.post(URL, json={"kind": "reevaluation", "reevaluation_reason": "Parent Request",
                                         "completion_date": _iso(5)}))["message"] == (
        "A re-evaluation follows an earlier evaluation of the student; enter the initial evaluation first.")
    initial = _initial(writer).get_json()
    _complete(writer, initial["id"])
    assert _error(writer.post(URL, json={"kind": "reevaluation", "completion_date": _iso(5)}))["message"] == (
        "Re-evaluations require a re-evaluation reason.")
    assert _error(writer.post(URL, json={"kind": "reevaluation", "reevaluation_reason": "Parent Request",
                                         "parent_decision": "consent", "completion_date": _iso(5)}))["message"] == (
        "A re-evaluation has no Parent Decision or Eligibility Determination Date.")
    assert _error(writer.post(URL, json={"kind": "reevaluation", "reevaluation_reason": "Parent Request",
                                         "eligibility_date": _iso(5), "completion_date": _iso(5)}))["fields"] == {
        "eligibility_date": ["A re-evaluation has no Parent Decision or Eligibility Determination Date."]}
    assert _error(writer.post(URL, json={"kind": "reevaluation", "reevaluation_reason": "Parent Request",
                                         "completion_date": _iso(30)}))["message"] == (
        f"The Evaluation Completion Date must be after the latest evaluation date ({TODAY - 15 * D:%m/%d/%Y}).")
    ok = writer.post(URL, json={"kind": "reevaluation", "reevaluation_reason": "Change of Exceptionality",
                                "completion_date": _iso(5)})
    assert ok.status_code == 201 and ok.get_json()["parent_decision"] is None


# -- triennial waiver -------------------------------------------------------------------------------

def test_triennial_waiver_takes_only_the_parent_signature_date_which_becomes_the_evaluation_date(writer):
    assert _error(writer.post(URL, json={"kind": "triennial_waiver", "parent_signature_date": _iso(3)}))[
        "message"] == "A triennial waiver carries an earlier evaluation forward; the student has none."
    initial = _initial(writer).get_json()
    writer.post(f"{URL}/{initial['id']}/exceptionalities", json={"code": "Autism", "primary": True})
    _complete(writer, initial["id"])
    missing = _error(writer.post(URL, json={"kind": "triennial_waiver"}))
    assert missing["message"] == "Parent Signature Date is required."
    only = ("A triennial waiver only takes the date the parent signed the waiver; the rest of the evaluation "
            "information cannot be changed.")
    mixed = _error(writer.post(URL, json={"kind": "triennial_waiver", "parent_signature_date": _iso(3),
                                          "completion_date": _iso(3)}))
    assert mixed["message"] == only and set(mixed["fields"]) == {"completion_date"}
    waiver = writer.post(URL, json={"kind": "triennial_waiver", "parent_signature_date": _iso(3)})
    assert waiver.status_code == 201
    body = waiver.get_json()
    assert body["evaluation_date"] == _iso(3)
    assert [(x["code"], x["primary"]) for x in body["exceptionalities"]] == [("Autism", True)]  # carried
    assert _error(writer.post(f"{URL}/{body['id']}/exceptionalities", json={"code": "Deafness"}))["message"] == only
    # most recent first
    listed = writer.get(URL).get_json()["evaluations"]
    assert [(e["kind"], e["evaluation_date"]) for e in listed] == [("triennial_waiver", _iso(3)),
                                                                   ("initial", _iso(15))]
    # modified: the date only
    moved = writer.put(f"{URL}/{body['id']}", json={"parent_signature_date": _iso(2)})
    assert moved.status_code == 200 and moved.get_json()["evaluation_date"] == _iso(2)


def test_evaluations_need_the_guardian_and_write_access(ser, client):
    login(client, "serwriter")
    assert _error(_initial(client), 409)["code"] == "guardian_required"
    client.post("/logout")
    login(client, "serreader")
    assert _initial(client).status_code == 403


def test_the_evaluations_page_tabs_and_messages(writer):
    page = writer.get(f"/ser/students/{AVERY}/evaluations").get_data(as_text=True)
    assert "No evaluations yet. Choose the tab for the type of evaluation you will enter." in page
    assert "Close Jurisdiction</a>" not in page  # it appears once an initial evaluation is entered
    token = writer.csrf_token()
    refused = writer.post(f"/ser/students/{AVERY}/evaluations", data={
        "csrf_token": token, "kind": "reevaluation", "completion_date": _iso(5)})
    assert refused.status_code == 422
    assert "Re-evaluations require a re-evaluation reason." in refused.get_data(as_text=True)
    saved = writer.post(f"/ser/students/{AVERY}/evaluations", data={
        "csrf_token": token, "kind": "initial", "permission_request_date": _iso(50), "parent_decision": "consent",
        "decision_date": _iso(45)})
    assert saved.status_code == 302
    page = writer.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Evaluation Completion Date" in page and "Add New" in page and "Close Jurisdiction</a>" in page
