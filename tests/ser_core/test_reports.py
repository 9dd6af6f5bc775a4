"""SER reports against hand-built data sets: each expected row is written out by hand from the
rules in README (60 business days consent → evaluation, 30 calendar days eligibility → IEP,
re-evaluation three years after the latest evaluation, IEP anniversary one year after the
meeting, ...). The clock is 2026-11-02 (ser fixture); readers are Pinecrest's (101)."""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink import clock
from edlink.extensions import db
from ser_core.access import find_student
from ser_core.models import Evaluation, Exceptionality
from ser_core.models_iep import Iep, PstSurvey, SisExit, SpedActivity
from tests.conftest import login
from tests.ser_core.conftest import AVERY, BLAIR, CASEY, ELLIS, events

day = _dt.date


@pytest.fixture
def reader(ser, client):
    ser.config["HOLIDAYS"] = ["2026-09-07"]
    ser.extensions.pop("edlink.calendar", None)  # the app's calendar is built again from the new holidays
    login(client, "serreader")
    return client


def _rows(client, code, **args):
    resp = client.get(f"/api/v1/ser/reports/{code}", query_string={"format": "json", **args})
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    return [tuple(r[c] for c in doc["columns"]) for r in doc["rows"]]


def _eval(state_id, kind="initial", **values):
    s = find_student(state_id)
    when = (values.pop("evaluation_date", None) or values.get("eligibility_date") or values.get("completion_date")
            or values.get("parent_signature_date") or values.get("decision_date"))
    e = Evaluation(student_id=s.id, lea_id=s.lea_id, kind=kind, evaluation_date=when, **values)
    db.session.add(e)
    db.session.flush()
    return e


def _iep(state_id, meeting, status="official", iep_type="initial", submitted=False, version=1):
    s = find_student(state_id)
    db.session.add(Iep(student_id=s.id, lea_id=s.lea_id, iep_type=iep_type, status=status, team_meeting_date=meeting,
                       begin_date=meeting, end_date=meeting.replace(year=meeting.year + 1), version=version,
                       submitted=submitted, made_official_at=clock.now() if status != "draft" else None))


BEGIN = day(2020, 1, 6)


def _exit(state_id, exit_date, reason, begin=BEGIN):
    s = find_student(state_id)
    a = SpedActivity(student_id=s.id, lea_id=s.lea_id, begin_date=begin, exit_date=exit_date, exit_reason=reason,
                     exit_lea_id=s.lea_id)
    db.session.add(a)
    db.session.flush()
    return a


def test_evaluation_timeline_detail_and_summary(reader):
    consent = {"parent_decision": "consent"}
    _eval(AVERY, decision_date=day(2026, 8, 3), completion_date=day(2026, 10, 20), **consent)
    _eval(BLAIR, decision_date=day(2026, 7, 1), completion_date=day(2026, 10, 5), **consent)
    _eval(ELLIS, decision_date=day(2026, 7, 20), **consent)  # due 10/13, not completed: out
    _eval(AVERY, decision_date=day(2026, 5, 1), completion_date=day(2026, 6, 1), **consent)  # June: not October
    _eval(CASEY, decision_date=day(2026, 8, 3), completion_date=day(2026, 10, 20), **consent)  # 102: not ours
    db.session.commit()
    assert _rows(reader, "ser-evaluation", period="2026-10") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "2026-07-01", "2026-09-24", "2026-10-05", "67", "Out"),
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "2026-07-20", "2026-10-13", "", "74", "Out"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "2026-08-03", "2026-10-27", "2026-10-20", "55", "In")]
    assert _rows(reader, "ser-eval-summary", period="2026-10") == [
        ("101", "Pinecrest Parish School System", "3", "1", "2", "33.3")]
    assert _rows(reader, "ser-eval-summary", period="2026-Q2") == [
        ("101", "Pinecrest Parish School System", "1", "1", "0", "100.0")]
    assert _rows(reader, "ser-evaluation", since="2026-10-06", until="2026-10-31") == [
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "2026-07-20", "2026-10-13", "", "74", "Out"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "2026-08-03", "2026-10-27", "2026-10-20", "55", "In")]
    assert events("report.generated", "serreader")[-1].details["report"] == "ser-evaluation"


def test_iep_timeline_detail_and_summary(reader):
    _eval(AVERY, decision_date=day(2026, 8, 1), completion_date=day(2026, 9, 25), eligibility_date=day(2026, 10, 1))
    _iep(AVERY, day(2026, 10, 25))                                  # 24 days: in
    _eval(BLAIR, decision_date=day(2026, 7, 1), completion_date=day(2026, 9, 5), eligibility_date=day(2026, 9, 10))
    _iep(BLAIR, day(2026, 10, 15))                                  # 35 days: out
    _eval(ELLIS, decision_date=day(2026, 7, 1), completion_date=day(2026, 9, 15), eligibility_date=day(2026, 9, 20))
    _iep(ELLIS, day(2026, 10, 12), status="draft")                  # never official: due 10/20 passed, out
    db.session.commit()
    assert _rows(reader, "ser-iep", period="2026-10") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "2026-09-10", "2026-10-10", "2026-10-15", "35", "Out"),
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "2026-09-20", "2026-10-20", "", "43", "Out"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "2026-10-01", "2026-10-31", "2026-10-25", "24", "In")]
    assert _rows(reader, "ser-iep-summary", period="2026-10") == [
        ("101", "Pinecrest Parish School System", "3", "1", "2", "33.3")]
    assert _rows(reader, "ser-iep-summary", period="2026-09") == []


def test_reevaluation_management_three_months(reader):
    _eval(AVERY, kind="reevaluation", reevaluation_reason="Triennial Re-Evaluation", completion_date=day(2023, 12, 15))
    _eval(BLAIR, decision_date=day(2023, 8, 1), completion_date=day(2023, 9, 25), eligibility_date=day(2023, 10, 1))
    _eval(ELLIS, kind="triennial_waiver", parent_signature_date=day(2024, 2, 1))  # due 02/01/2027: after January
    _eval(CASEY, kind="reevaluation", completion_date=day(2023, 11, 20))          # 102
    db.session.commit()
    assert _rows(reader, "ser-reeval-management") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "2023-10-01", "Initial", "2026-10-01", "", "Overdue"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "2023-12-15", "Re-Evaluation", "2026-12-15", "2026-12", "Due")]


def test_rosters_by_school_year(reader):
    _iep(AVERY, day(2026, 3, 10))
    _eval(AVERY, kind="reevaluation", completion_date=day(2023, 12, 15))
    _iep(BLAIR, day(2025, 5, 1))
    _eval(BLAIR, kind="reevaluation", completion_date=day(2021, 9, 1))
    _eval(ELLIS, kind="reevaluation", completion_date=day(2024, 6, 30))
    db.session.commit()
    assert _rows(reader, "ser-rosters", period="2026-27") == [
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "", "", "2024-06-30", "2027-06-30"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "2026-03-10", "2027-03-10", "2023-12-15", "2026-12-15")]


def test_developmental_delay_turning_9(reader):
    find_student(BLAIR).birth_date = day(2017, 9, 15)
    find_student(AVERY).birth_date = day(2018, 3, 1)
    find_student(ELLIS).birth_date = day(2017, 8, 1)
    find_student(CASEY).birth_date = day(2017, 10, 1)
    for state_id, code in ((BLAIR, "Developmental Delay"), (AVERY, "Autism"), (ELLIS, "Developmental Delay"),
                           (CASEY, "Developmental Delay")):
        e = _eval(state_id, kind="reevaluation", completion_date=day(2024, 1, 10))
        db.session.add(Exceptionality(evaluation_id=e.id, code=code, is_primary=True))
    db.session.commit()
    assert _rows(reader, "ser-dd-turning-9", period="2026-27") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "2017-09-15", "2026-09-15", "2024-01-10"),
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "2017-08-01", "2026-08-01", "2024-01-10")]
    assert _rows(reader, "ser-dd-turning-9-summary", period="2026-27") == [
        ("101", "Pinecrest Parish School System", "2")]
    assert _rows(reader, "ser-dd-turning-9", period="2026-08") == [
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "2017-08-01", "2026-08-01", "2024-01-10")]


def test_iep_management(reader):
    _iep(AVERY, day(2026, 9, 10), submitted=True)
    _iep(AVERY, day(2026, 6, 1), submitted=True)  # the previous school year
    _iep(BLAIR, day(2026, 10, 1), status="draft", iep_type="annual")
    _iep(ELLIS, day(2026, 7, 15), status="amended_draft", iep_type="annual", version=2)
    _iep(CASEY, day(2026, 9, 1))
    db.session.commit()
    assert _rows(reader, "ser-iep-management", period="2026-27") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "Annual Review", "2026-10-01", "2027-10-01", "Draft", "1", "N"),
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "Annual Review", "2026-07-15", "2027-07-15", "Amended-Draft",
         "2", "N"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "Initial", "2026-09-10", "2027-09-10", "Official", "1", "Y")]
    assert _rows(reader, "ser-iep-management-summary", period="2026-27") == [
        ("101", "Pinecrest Parish School System", "3", "1", "1", "1", "1", "2")]


def test_pst_missing(reader):
    avery = _exit(AVERY, day(2025, 6, 1), "High School Diploma (Regular Assessment)")
    db.session.add(PstSurvey(activity_id=avery.id, kind="initial_exit", survey_date=day(2025, 6, 10),
                             unable_to_contact=True, answers={}))
    _exit(BLAIR, day(2026, 10, 1), "Dropped Out")
    _exit(ELLIS, day(2025, 1, 10), "Moved Out of State/Known to be Continuing")  # no PST
    _exit(CASEY, day(2026, 10, 1), "Dropped Out")  # 102
    db.session.commit()
    assert _rows(reader, "ser-pst-missing") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "2026-10-01", "Dropped Out", "Initial Exit", "2026-10-01"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "2025-06-01", "High School Diploma (Regular Assessment)",
         "One Year Exit Follow-up", "2026-06-01")]


def test_sis_exit_import_and_cross_check(reader, client):
    client.post("/logout")
    login(client, "serwriter")
    bad = client.post("/api/v1/ser/sis-exits", data="state_id,lea_code,exit_code,exit_date\n"
                                                     f"{AVERY},101,01,2026-05-28\n{ELLIS},102,09,2026-13-01\n")
    assert bad.status_code == 422
    reasons = bad.get_json()["error"]["fields"]
    assert "you may not load exits for 102" in str(reasons) and "is not a date" in str(reasons)
    assert db.session.execute(db.select(db.func.count()).select_from(SisExit)).scalar_one() == 0  # all or nothing
    good = client.post("/api/v1/ser/sis-exits", data="state_id,lea_code,exit_code,exit_date\n"
                                                      f"{AVERY},101,01,2026-05-28\n{ELLIS},101,09,2026-03-01\n"
                                                      f"{BLAIR},101,04,2026-06-15\n{BLAIR},101,02,2026-02-01\n")
    assert good.status_code == 200 and good.get_json()["created"] == 4
    find_student(BLAIR).birth_date = day(2010, 1, 1)
    _exit(AVERY, day(2026, 5, 29), "High School Diploma (Regular Assessment)")
    _exit(ELLIS, day(2026, 3, 1), "Death")
    db.session.commit()
    assert _rows(client, "ser-exit-crosscheck", year="2026") == [
        ("101", "NP1011", BLAIR, "Lakewood", "Blair", "16", "", "", "04", "2026-06-15", "In SIS only"),
        ("101", "101002", ELLIS, "Oldfield", "Ellis", "25", "Death", "2026-03-01", "09", "2026-03-01",
         "Exit kinds differ (SER: Death; SIS: Moved Out of State/Known to be Continuing)"),
        ("101", "101001", AVERY, "Pinewood", "Avery", "14", "High School Diploma (Regular Assessment)", "2026-05-29",
         "01", "2026-05-28", "Exit dates differ")]
    find_student(AVERY).birth_date = day(2012, 7, 1)  # 13 on June 30: not compared
    db.session.commit()
    assert [r[2] for r in _rows(client, "ser-exit-crosscheck", year="2026")] == [BLAIR, ELLIS]


def test_reports_csv_excel_and_scope(reader, client):
    resp = reader.get("/api/v1/ser/reports/ser-pst-missing?format=csv")
    assert resp.status_code == 200 and resp.get_data(as_text=True).splitlines()[0].startswith(
        "LEA Code,School,State ID,Last Name,First Name,Exit Date")
    queued = reader.get("/api/v1/ser/reports/ser-rosters?format=xlsx&period=2026-27")
    assert queued.status_code == 202
    run = queued.get_json()["run"]
    listed = reader.get("/api/v1/reports/runs").get_json()["runs"]
    assert listed and listed[0]["id"] == run["id"]
    assert _error(reader.get("/api/v1/ser/reports/ser-rosters?org=102"), 403)
    assert _error(reader.get("/api/v1/ser/reports/ser-evaluation?period=2026-13"), 422)["message"] == (
        "period must be a month (2026-10), a quarter (2026-Q4) or a school year (2025-26), not '2026-13'.")
    client.post("/logout")
    login(client, "stateadmin")
    assert client.get("/api/v1/ser/reports/ser-rosters").status_code == 403


def _error(resp, status):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()["error"]
