"""Management reports: Re-Eval Management (a three-month view from the day it is generated),
Rosters (IEP and evaluation anniversary dates by school year), Developmental Delay Turning 9
(detail and summary), IEP/SP Management (detail and summary) and PST Missing.

Rules: the re-evaluation is due three years after the latest evaluation date (a triennial
waiver's parent signature date counts); the IEP anniversary is one year after the latest
official IEP's team meeting. Students listed have an open jurisdiction in the reader's scope.
"""
from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Mapping

from audit.reports.registry import Prepared, ReportKind, text_arg
from edlink import clock
from edlink.extensions import db
from ser_core import exits, pst
from ser_core.ieps.catalogue import IEP_TYPES, STATUSES
from ser_core.models import Evaluation, SerStudent
from ser_core.models_iep import Iep, SpedActivity
from ser_core.reports.common import (
    ORG_FIELD,
    PERIOD_FIELD,
    SINCE_FIELD,
    STUDENT_COLUMNS,
    UNTIL_FIELD,
    add_years,
    bounds,
    names,
    parse_period,
    scope,
    student_in,
)

REEVAL_YEARS = 3
YEAR_FIELDS = (PERIOD_FIELD, SINCE_FIELD, UNTIL_FIELD, ORG_FIELD)


def _org_only(args: Mapping[str, str]) -> dict:
    return {"org": text_arg(args, "org")}


def _year(args: Mapping[str, str]) -> dict:
    return {**parse_period(args, default="school_year"), "org": text_arg(args, "org")}


def _students(ids: list[int]) -> list[SerStudent]:
    return list(db.session.execute(db.select(SerStudent).where(SerStudent.jurisdiction_open.is_(True),
                                                               student_in(ids))
                                   .order_by(SerStudent.last_name, SerStudent.first_name)).scalars())


def _latest_evaluations(student_ids: list[int]) -> dict[int, Evaluation]:
    latest: dict[int, Evaluation] = {}
    for e in db.session.execute(db.select(Evaluation).where(Evaluation.student_id.in_(student_ids)).order_by(
            Evaluation.evaluation_date, Evaluation.id)).scalars():
        if e.kind == "initial" and e.eligibility_date is None:
            continue  # not yet an evaluation result
        latest[e.student_id] = e
    return latest


def _latest_official_ieps(student_ids: list[int]) -> dict[int, Iep]:
    latest: dict[int, Iep] = {}
    for i in db.session.execute(db.select(Iep).where(Iep.student_id.in_(student_ids), Iep.made_official_at.is_not(None))
                                .order_by(Iep.team_meeting_date, Iep.id)).scalars():
        latest[i.student_id] = i
    return latest


def _first_of_month(day: _dt.date, months: int = 0) -> _dt.date:
    index = day.year * 12 + day.month - 1 + months
    return _dt.date(index // 12, index % 12 + 1, 1)


REEVAL_COLUMNS = (*STUDENT_COLUMNS, "Latest Evaluation", "Evaluation Type", "Re-Evaluation Due", "Month", "Status")


def reeval_prepare(user, params: dict) -> Prepared:
    """Students whose re-evaluation is overdue or due this month or in the next two."""
    ids, label = scope(user, params.get("org"))
    today = clock.today()
    horizon = _first_of_month(today, 3) - _dt.timedelta(days=1)
    students = _students(ids)
    latest = _latest_evaluations([s.id for s in students])
    rows = []
    for s in students:
        e = latest.get(s.id)
        if e is None:
            continue
        due = add_years(e.evaluation_date, REEVAL_YEARS)
        if due > horizon:
            continue
        kind = {"initial": "Initial", "reevaluation": "Re-Evaluation", "triennial_waiver": "Triennial Waiver"}[e.kind]
        rows.append((*names(s), e.evaluation_date, kind, due, f"{due:%Y-%m}" if due >= today else "",
                     "Overdue" if due < today else "Due"))
    rows.sort(key=lambda r: (r[7], r[3], r[4]))  # by due date, then name
    return Prepared(scope=f"{label}, due through {horizon:%m/%d/%Y} (generated {today:%m/%d/%Y})", count=len(rows),
                    rows=rows, org=params.get("org"))


ROSTER_COLUMNS = (*STUDENT_COLUMNS, "Latest IEP Meeting", "IEP Anniversary Date", "Latest Evaluation",
                  "Evaluation Anniversary Date")


def roster_prepare(user, params: dict) -> Prepared:
    ids, label = scope(user, params.get("org"))
    start, end = bounds(params)
    students = _students(ids)
    evals, plans = _latest_evaluations([s.id for s in students]), _latest_official_ieps([s.id for s in students])
    rows = []
    for s in students:
        e, i = evals.get(s.id), plans.get(s.id)
        iep_day = add_years(i.team_meeting_date, 1) if i and i.team_meeting_date else None
        eval_day = add_years(e.evaluation_date, REEVAL_YEARS) if e else None
        if not any(d is not None and start <= d <= end for d in (iep_day, eval_day)):
            continue
        rows.append((*names(s), i.team_meeting_date if i else None, iep_day, e.evaluation_date if e else None,
                     eval_day))
    return Prepared(scope=f"{label}, {params['label']}", count=len(rows), rows=rows, org=params.get("org"))


DD_COLUMNS = (*STUDENT_COLUMNS, "Birth Date", "Turns 9 On", "Evaluation Date")


def _dd_rows(user, params: dict) -> tuple[list[tuple], list[SerStudent], str]:
    ids, label = scope(user, params.get("org"))
    start, end = bounds(params)
    students = _students(ids)
    latest = _latest_evaluations([s.id for s in students])
    rows, found = [], []
    for s in students:
        e = latest.get(s.id)
        turns = add_years(s.birth_date, 9)
        if e is None or not (start <= turns <= end):
            continue
        if any(x.is_primary and x.code == "Developmental Delay" for x in e.exceptionalities):
            rows.append((*names(s), s.birth_date, turns, e.evaluation_date))
            found.append(s)
    return rows, found, f"{label}, {params['label']}"


def dd_prepare(user, params: dict) -> Prepared:
    rows, _found, label = _dd_rows(user, params)
    return Prepared(scope=label, count=len(rows), rows=rows, org=params.get("org"))


def dd_summary_prepare(user, params: dict) -> Prepared:
    _rows, found, label = _dd_rows(user, params)
    counts = Counter((s.lea.code, s.lea.name) for s in found)
    rows = [(code, name, n) for (code, name), n in sorted(counts.items())]
    return Prepared(scope=label, count=len(rows), rows=rows, org=params.get("org"))


IEP_MGMT_COLUMNS = (*STUDENT_COLUMNS, "IEP Type", "Team Meeting Date", "IEP End Date", "Status", "Version",
                    "Submitted to SER")
IEP_MGMT_SUMMARY = ("LEA Code", "LEA Name", "IEPs", "Draft", "Official", "Amended-Draft", "Submitted",
                    "Not Submitted")


def _ieps_in_year(user, params: dict) -> tuple[list[Iep], str]:
    ids, label = scope(user, params.get("org"))
    start, end = bounds(params)
    found = list(db.session.execute(db.select(Iep).join(SerStudent, SerStudent.id == Iep.student_id).where(
        student_in(ids, Iep.lea_id), Iep.team_meeting_date >= start, Iep.team_meeting_date <= end)
        .order_by(SerStudent.last_name, SerStudent.first_name, Iep.team_meeting_date, Iep.id)).scalars())
    return found, f"{label}, {params['label']}"


def iep_mgmt_prepare(user, params: dict) -> Prepared:
    found, label = _ieps_in_year(user, params)
    rows = [(*names(i.student), IEP_TYPES[i.iep_type], i.team_meeting_date, i.end_date, STATUSES[i.status],
             i.version, "Y" if i.submitted else "N") for i in found]
    return Prepared(scope=label, count=len(rows), rows=rows, org=params.get("org"))


def iep_mgmt_summary_prepare(user, params: dict) -> Prepared:
    found, label = _ieps_in_year(user, params)
    groups: dict[tuple, Counter] = {}
    for i in found:
        c = groups.setdefault((i.student.lea.code, i.student.lea.name), Counter())
        c["all"] += 1
        c[i.status] += 1
        c["submitted" if i.submitted else "not"] += 1
    rows = [(code, name, c["all"], c["draft"], c["official"], c["amended_draft"], c["submitted"], c["not"])
            for (code, name), c in sorted(groups.items())]
    return Prepared(scope=label, count=len(rows), rows=rows, org=params.get("org"))


PST_COLUMNS = (*STUDENT_COLUMNS, "Exit Date", "Exit Reason", "Survey Owed", "Owed From")


def pst_prepare(user, params: dict) -> Prepared:
    """What post-school transition surveys are owed today (the report must be blank)."""
    ids, label = scope(user, params.get("org"))
    today = clock.today()
    rows = []
    for activity, student in db.session.execute(
            db.select(SpedActivity, SerStudent).join(SerStudent, SerStudent.id == SpedActivity.student_id)
            .where(SpedActivity.exit_reason.in_(exits.PST_REQUIRED), student_in(ids, SpedActivity.exit_lea_id))
            .order_by(SerStudent.last_name, SerStudent.first_name, SpedActivity.exit_date)).all():
        for kind in pst.owed(activity, today):
            owed_from = activity.exit_date if kind == "initial_exit" else pst.one_year_after(activity.exit_date)
            rows.append((*names(student), activity.exit_date, activity.exit_reason, pst.KINDS[kind], owed_from))
    return Prepared(scope=f"{label}, owed on {today:%m/%d/%Y}", count=len(rows), rows=rows, org=params.get("org"))


KINDS = (
    ReportKind(code="ser-reeval-management", title="SER Re-Eval Management", columns=REEVAL_COLUMNS, parse=_org_only,
               prepare=reeval_prepare, fields=(ORG_FIELD,),
               date_columns=frozenset({"Latest Evaluation", "Re-Evaluation Due"}),
               description="A three-month view from the day it is generated: re-evaluations overdue or due this "
                           "month and the next two (three years after the latest evaluation)."),
    ReportKind(code="ser-rosters", title="SER Rosters", columns=ROSTER_COLUMNS, parse=_year, prepare=roster_prepare,
               fields=YEAR_FIELDS, date_columns=frozenset(ROSTER_COLUMNS[5:]),
               description="Students with an IEP anniversary (one year after the latest official IEP meeting) or "
                           "an evaluation anniversary (three years) in the school year."),
    ReportKind(code="ser-dd-turning-9", title="SER Developmental Delay Turning 9", columns=DD_COLUMNS, parse=_year,
               prepare=dd_prepare, fields=YEAR_FIELDS, date_columns=frozenset(DD_COLUMNS[5:]),
               description="Students whose primary exceptionality is Developmental Delay and who turn 9 in the "
                           "period: they must be reclassified or dismissed of the exceptionality."),
    ReportKind(code="ser-dd-turning-9-summary", title="SER Developmental Delay Turning 9 (summary)",
               columns=("LEA Code", "LEA Name", "Students"), parse=_year, prepare=dd_summary_prepare,
               fields=YEAR_FIELDS, description="Per LEA: how many Developmental Delay students turn 9 in the period."),
    ReportKind(code="ser-iep-management", title="SER IEP/SP Management", columns=IEP_MGMT_COLUMNS, parse=_year,
               prepare=iep_mgmt_prepare, fields=YEAR_FIELDS,
               date_columns=frozenset({"Team Meeting Date", "IEP End Date"}),
               description="The IEPs of the school year (by team meeting date): type, status, version and whether "
                           "submitted to SER."),
    ReportKind(code="ser-iep-management-summary", title="SER IEP/SP Management (summary)", columns=IEP_MGMT_SUMMARY,
               parse=_year, prepare=iep_mgmt_summary_prepare, fields=YEAR_FIELDS,
               description="Per LEA: the school year's IEPs by status and submission."),
    ReportKind(code="ser-pst-missing", title="SER PST Missing", columns=PST_COLUMNS, parse=_org_only,
               prepare=pst_prepare, fields=(ORG_FIELD,), date_columns=frozenset({"Exit Date", "Owed From"}),
               description="Post-school transition surveys owed today (Initial Exit, and the One Year Exit "
                           "Follow-up once a year has passed); it must be blank."),
)
