"""The SER/SIS Exit Cross Check: SIS exit records (imported CSV ``state_id,lea_code,exit_code,
exit_date``, all or nothing) compared with SER's exits for students 14 and older on the count
date, June 30, of the school year (July 1 to June 30). Only four kinds are compared: High School
Diploma (Regular Assessment); Moved Out of State/Known to be Continuing; Certificates of
Achievement and LHSD; Death. SIS exit codes map to those kinds by SER_SIS_EXIT_CODES.

A row is a discrepancy: an exit in SER only, in SIS only, of different kinds, or on different
dates.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

from flask import current_app

import audit
from audit.reports.registry import Field, Prepared, ReportKind, text_arg
from edlink import clock
from edlink.csvio import ImportRejected, ImportResult, RowError, read_rows
from edlink.errors import Forbidden, Invalid
from edlink.extensions import db
from edlink.orgs import find_org
from roles import gate
from ser_core import exits
from ser_core.access import WRITE
from ser_core.models import SerStudent
from ser_core.models_iep import SisExit, SpedActivity
from ser_core.reports.common import ORG_FIELD, STUDENT_COLUMNS, add_years, names, scope, student_in

COLUMNS = ("state_id", "lea_code", "exit_code", "exit_date")
KIND_OF_EXIT = {exits.DIPLOMA_REGULAR: "HS Diploma (Regular Assessment)",
                exits.MOVED_OUT_OF_STATE: "Moved Out of State/Known to be Continuing",
                exits.CERTIFICATE: "Certificate of Achievement/LHSD", exits.LHSD: "Certificate of Achievement/LHSD",
                exits.LHSD_INDUSTRY: "Certificate of Achievement/LHSD",
                exits.LHSD_STATE: "Certificate of Achievement/LHSD", exits.DEATH: "Death"}
MIN_AGE = 14


def sis_kinds() -> dict[str, str]:
    """SIS exit code -> compared kind, from SER_SIS_EXIT_CODES."""
    return {code: kind for kind, codes in current_app.config["SER_SIS_EXIT_CODES"].items() for code in codes}


def import_sis_exits(data: str | bytes, user=None, actor=None) -> ImportResult:
    """Create or replace SIS exit records, all or nothing. With ``user``: only rows of LEAs where the
    user holds eser.student.write."""
    rows = read_rows(data, list(COLUMNS), required=list(COLUMNS))
    errors, good, seen = [], {}, {}
    for line, row in rows:
        key = (row.get("state_id", ""), row.get("lea_code", ""), row.get("exit_date", ""))
        if "__error__" in row:
            errors.append(RowError(line, row["__error__"], key[0]))
            continue
        problems = []
        if not (key[0].isdigit() and len(key[0]) == 10):
            problems.append("malformed state ID: it must be 10 digits")
        lea = find_org(key[1])
        if lea is None or lea.kind != "lea":
            problems.append(f"unknown LEA {key[1]!r}")
        elif user is not None and not gate.can(WRITE, lea, user):
            problems.append(f"you may not load exits for {lea.code}")
        if not row["exit_code"] or len(row["exit_code"]) > 10:
            problems.append("exit_code is required (up to 10 characters)")
        try:
            day = _dt.date.fromisoformat(key[2])
        except ValueError:
            problems.append(f"exit_date {key[2]!r} is not a date (YYYY-MM-DD)")
        else:
            if day > clock.today():
                problems.append("exit_date is in the future")
        if key in seen:
            problems.append(f"duplicate exit in the file (also on line {seen[key]})")
        seen.setdefault(key, line)
        if problems:
            errors.append(RowError(line, "; ".join(problems), key[0]))
        else:
            good[key] = (row["exit_code"], day)
    if errors:
        raise ImportRejected(errors, "SIS exit file")
    result = ImportResult()
    for (state_id, lea_code, _raw), (code, day) in good.items():
        found = db.session.execute(db.select(SisExit).where(SisExit.state_id == state_id, SisExit.lea_code == lea_code,
                                                            SisExit.exit_date == day)).scalar_one_or_none()
        label = f"{state_id}@{lea_code}"
        if found is None:
            db.session.add(SisExit(state_id=state_id, lea_code=lea_code, exit_code=code, exit_date=day))
            result.created.append(label)
        elif found.exit_code != code:
            found.exit_code, found.imported_at = code, clock.now()
            result.updated.append(label)
        else:
            result.unchanged.append(label)
    db.session.flush()
    audit.record("ser.sis_exits.imported", user or actor, ("ser_sis_exit_import", None), None, result.summary())
    return result


def parse(args: Mapping[str, str]) -> dict:
    raw = text_arg(args, "year")
    today = clock.today()
    if raw is None:
        year = today.year if today.month >= 7 else today.year - 1
        year = year if _dt.date(year, 6, 30) <= today else year - 1
    elif raw.isdigit() and len(raw) == 4:
        year = int(raw)
    else:
        raise Invalid("bad_filter", f"year must be the year of the June 30 count date (e.g. 2026), not {raw!r}.",
                      fields={"year": ["not a year"]})
    return {"year": year, "org": text_arg(args, "org")}


CROSS_COLUMNS = (*STUDENT_COLUMNS, "Age on June 30", "SER Exit Reason", "SER Exit Date", "SIS Exit Code",
                 "SIS Exit Date", "Discrepancy")


def prepare(user, params: dict) -> Prepared:
    ids, label = scope(user, params.get("org"))
    count_date = _dt.date(params["year"], 6, 30)
    start = _dt.date(params["year"] - 1, 7, 1)
    oldest = add_years(count_date, -MIN_AGE)  # born on or before: 14 or older on June 30
    students = {s.state_id: s for s in db.session.execute(db.select(SerStudent).where(
        student_in(ids), SerStudent.birth_date <= oldest)).scalars()}
    ser = {}
    for a, s in db.session.execute(db.select(SpedActivity, SerStudent).join(
            SerStudent, SerStudent.id == SpedActivity.student_id).where(
            SpedActivity.exit_date >= start, SpedActivity.exit_date <= count_date,
            SpedActivity.exit_reason.in_(list(KIND_OF_EXIT)), SerStudent.state_id.in_(list(students)))).all():
        ser[s.state_id] = a
    codes = sis_kinds()
    leas = {s.lea.code for s in students.values()}
    sis = {}
    for x in db.session.execute(db.select(SisExit).where(SisExit.exit_date >= start, SisExit.exit_date <= count_date,
                                                         SisExit.state_id.in_(list(students)))).scalars():
        if x.exit_code in codes and x.lea_code in leas:
            sis[x.state_id] = x
    rows = []
    for state_id in sorted(set(ser) | set(sis), key=lambda k: (students[k].last_name, students[k].first_name, k)):
        s, a, x = students[state_id], ser.get(state_id), sis.get(state_id)
        if a and x:
            ser_kind, sis_kind = KIND_OF_EXIT[a.exit_reason], codes[x.exit_code]
            if ser_kind != sis_kind:
                why = f"Exit kinds differ (SER: {ser_kind}; SIS: {sis_kind})"
            elif a.exit_date != x.exit_date:
                why = "Exit dates differ"
            else:
                continue
        else:
            why = "In SER only" if a else "In SIS only"
        age = count_date.year - s.birth_date.year - ((count_date.month, count_date.day) <
                                                     (s.birth_date.month, s.birth_date.day))
        rows.append((*names(s), age, a.exit_reason if a else None, a.exit_date if a else None,
                     x.exit_code if x else None, x.exit_date if x else None, why))
    return Prepared(scope=f"{label}, exits {start:%m/%d/%Y} to {count_date:%m/%d/%Y}, students {MIN_AGE} and older",
                    count=len(rows), rows=rows, org=params.get("org"))


def require_import(user) -> None:
    if not gate.orgs_with(WRITE, user):
        raise Forbidden("forbidden", "Loading SIS exits needs the eser.student.write permission.")


KINDS = (
    ReportKind(code="ser-exit-crosscheck", title="SER/SIS Exit Cross Check", columns=CROSS_COLUMNS, parse=parse,
               prepare=prepare, fields=(Field("year", "Count year", help="The June 30 count date's year, e.g. 2026."),
                                        ORG_FIELD),
               date_columns=frozenset({"SER Exit Date", "SIS Exit Date"}),
               description="Compares SER exits with the imported SIS exits for students 14 and older on June 30: "
                           "HS Diploma (Regular Assessment), Moved Out of State, Certificates of Achievement/LHSD "
                           "and Death. Lists the discrepancies."),
)
