"""Evaluation and IEP timeline compliance, detail ("Evaluation", "IEP") and summary ("Eval
Summary", "IEP Summary": percent and counts in and out of timelines per LEA).

Timelines (settings, see README):
- evaluation: an initial evaluation with parental consent is completed within
  SER_EVALUATION_TIMELINE_DAYS (60) business days of the consent (the Decision/Start Date);
  business days skip weekends and EDLINK_HOLIDAYS;
- IEP: the initial IEP's team meeting is held within SER_IEP_TIMELINE_DAYS (30) calendar days of
  the eligibility determination.
A record counts in the period its timeline ended in: the evaluation's completion (or IEP
meeting) date falls in the period; one not done whose due date passed within the period (and
before today) counts out of timeline there.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

from flask import current_app

from audit.reports.registry import Prepared, ReportKind, text_arg
from edlink import clock
from edlink.extensions import db
from ser_core.models import Evaluation, SerStudent
from ser_core.models_iep import Iep
from ser_core.reports.common import (
    ORG_FIELD,
    PERIOD_FIELD,
    SINCE_FIELD,
    STUDENT_COLUMNS,
    SUMMARY_COLUMNS,
    UNTIL_FIELD,
    add_business_days,
    bounds,
    business_days_between,
    names,
    parse_period,
    scope,
    student_in,
    summarize,
)

FIELDS = (PERIOD_FIELD, SINCE_FIELD, UNTIL_FIELD, ORG_FIELD)
EVAL_COLUMNS = (*STUDENT_COLUMNS, "Consent Date", "Due Date", "Completion Date", "Business Days", "Timeline")
IEP_COLUMNS = (*STUDENT_COLUMNS, "Eligibility Date", "Due Date", "Team Meeting Date", "Calendar Days", "Timeline")
DATES_EVAL = frozenset({"Consent Date", "Due Date", "Completion Date"})
DATES_IEP = frozenset({"Eligibility Date", "Due Date", "Team Meeting Date"})


def parse(args: Mapping[str, str]) -> dict:
    return {**parse_period(args), "org": text_arg(args, "org")}


def _counted(done: _dt.date | None, due: _dt.date, start: _dt.date, end: _dt.date) -> bool:
    if done is not None:
        return start <= done <= end
    return start <= due <= end and due < clock.today()


def evaluation_records(user, params: dict) -> tuple[list[dict], str]:
    ids, label = scope(user, params.get("org"))
    start, end = bounds(params)
    days = int(current_app.config["SER_EVALUATION_TIMELINE_DAYS"])
    rows = db.session.execute(db.select(Evaluation, SerStudent).join(SerStudent, SerStudent.id == Evaluation.student_id)
                              .where(Evaluation.kind == "initial", Evaluation.parent_decision == "consent",
                                     Evaluation.decision_date.is_not(None), student_in(ids, Evaluation.lea_id))
                              .order_by(SerStudent.last_name, SerStudent.first_name, Evaluation.id)).all()
    records = []
    for evaluation, student in rows:
        due = add_business_days(evaluation.decision_date, days)
        done = evaluation.completion_date
        if not _counted(done, due, start, end):
            continue
        records.append({"student": student, "start": evaluation.decision_date, "due": due, "done": done,
                        "days": business_days_between(evaluation.decision_date, done or clock.today()),
                        "in_timeline": done is not None and done <= due})
    return records, f"{label}, {params['label']}"


def iep_records(user, params: dict) -> tuple[list[dict], str]:
    ids, label = scope(user, params.get("org"))
    start, end = bounds(params)
    days = int(current_app.config["SER_IEP_TIMELINE_DAYS"])
    rows = db.session.execute(db.select(Evaluation, SerStudent).join(SerStudent, SerStudent.id == Evaluation.student_id)
                              .where(Evaluation.kind == "initial", Evaluation.eligibility_date.is_not(None),
                                     student_in(ids, Evaluation.lea_id))
                              .order_by(SerStudent.last_name, SerStudent.first_name, Evaluation.id)).all()
    records = []
    for evaluation, student in rows:
        eligible = evaluation.eligibility_date
        due = eligible + _dt.timedelta(days=days)
        meeting = db.session.execute(db.select(Iep.team_meeting_date).where(
            Iep.student_id == student.id, Iep.iep_type == "initial", Iep.made_official_at.is_not(None),
            Iep.team_meeting_date >= eligible).order_by(Iep.team_meeting_date)).scalars().first()
        if not _counted(meeting, due, start, end):
            continue
        records.append({"student": student, "start": eligible, "due": due, "done": meeting,
                        "days": ((meeting or clock.today()) - eligible).days,
                        "in_timeline": meeting is not None and meeting <= due})
    return records, f"{label}, {params['label']}"


def _detail(records: list[dict]) -> list[tuple]:
    return [(*names(r["student"]), r["start"], r["due"], r["done"], r["days"],
             "In" if r["in_timeline"] else "Out") for r in records]


def _prepare(build, summary: bool):
    def prepare(user, params: dict) -> Prepared:
        records, label = build(user, params)
        rows = summarize(records) if summary else _detail(records)
        return Prepared(scope=label, count=len(rows), rows=rows, org=params.get("org"))
    return prepare


KINDS = (
    ReportKind(code="ser-evaluation", title="SER Evaluation (timeline detail)", columns=EVAL_COLUMNS, parse=parse,
               prepare=_prepare(evaluation_records, False), fields=FIELDS, date_columns=DATES_EVAL,
               description="Initial evaluations in and out of the 60-business-day timeline from parental consent "
                           "to completion, student by student, for the period."),
    ReportKind(code="ser-eval-summary", title="SER Eval Summary", columns=SUMMARY_COLUMNS, parse=parse,
               prepare=_prepare(evaluation_records, True), fields=FIELDS,
               description="Per LEA: the compliance percentage and the number of students in and out of the "
                           "evaluation timeline for the period."),
    ReportKind(code="ser-iep", title="SER IEP (timeline detail)", columns=IEP_COLUMNS, parse=parse,
               prepare=_prepare(iep_records, False), fields=FIELDS, date_columns=DATES_IEP,
               description="Initial IEPs in and out of the 30-day timeline from eligibility to the team meeting, "
                           "student by student."),
    ReportKind(code="ser-iep-summary", title="SER IEP Summary", columns=SUMMARY_COLUMNS, parse=parse,
               prepare=_prepare(iep_records, True), fields=FIELDS,
               description="Per LEA: the compliance percentage and the number of students in and out of the "
                           "IEP timeline for the period."),
)
