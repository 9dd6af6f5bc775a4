"""IEP validation: per form, the errors (they block Make This IEP Official), the warnings (they do
not) and the forms that pass, each finding with its catalogue code and message."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from edlink import clock
from edlink.extensions import db
from edlink.orgs import covered_org_ids, find_org
from ser_core.dates import add_years
from ser_core.ieps.catalogue import BY_CODE, CODE_BY_ID, TRANSITION_AGE
from ser_core.models import Evaluation
from ser_core.models_iep import Iep

INITIAL_IEP_DAYS = 30  # default of SER_IEP_TIMELINE_DAYS: eligibility to the initial IEP, calendar days


@dataclass(frozen=True)
class Finding:
    form: str
    level: str  # error | warning
    code: str

    @property
    def message(self) -> str:
        return CODE_BY_ID[self.code].definition

    @property
    def solution(self) -> str:
        return CODE_BY_ID[self.code].solution


@dataclass
class Result:
    """Findings by form, in the IEP's form order; a form with none passed."""

    forms: list[tuple[str, str, list[Finding]]]  # (code, status pass|warning|error, findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for _c, _s, fs in self.forms for f in fs if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for _c, _s, fs in self.forms for f in fs if f.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _date(value) -> _dt.date | None:
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _add_year(day: _dt.date, years: int = 1) -> _dt.date:
    return add_years(day, years)


def _general(iep: Iep, timeline_days: int) -> list[str]:
    found = []
    meeting, begin, end = iep.team_meeting_date, iep.begin_date, iep.end_date
    if meeting is None:
        found.append("IEP-E001")
    elif meeting > clock.today():
        found.append("IEP-E002")
    if begin is None or (meeting is not None and begin < meeting):
        found.append("IEP-E003")
    if end is None or (begin is not None and end <= begin) or (meeting is not None and end > _add_year(meeting)):
        found.append("IEP-E004")
    if iep.iep_type == "initial" and meeting is not None:
        eligible = db.session.execute(db.select(Evaluation.eligibility_date).where(
            Evaluation.student_id == iep.student_id, Evaluation.kind == "initial",
            Evaluation.eligibility_date.is_not(None), Evaluation.eligibility_date <= meeting)
            .order_by(Evaluation.eligibility_date.desc())).scalars().first()
        if eligible is None:
            found.append("IEP-E005")
        elif (meeting - eligible).days > timeline_days:
            found.append("IEP-W006")
    return found


def _blank(data: dict, name: str) -> bool:
    return not str(data.get(name) or "").strip()


def _form(iep: Iep, code: str, data: dict) -> list[str]:
    found = []
    if code == "present_levels":
        found += ["IEP-E010"] if _blank(data, "academic") else []
        found += ["IEP-W011"] if _blank(data, "functional") else []
    elif code == "goals":
        found += ["IEP-E020"] if _blank(data, "goal") else []
        found += ["IEP-W021"] if _blank(data, "measurement") else []
    elif code == "program_services":
        found += ["IEP-E030"] if _blank(data, "services") else []
        minutes = str(data.get("minutes_per_week") or "").strip()
        found += [] if minutes.isdigit() and int(minutes) > 0 else ["IEP-E031"]
        found += ["IEP-E032"] if _blank(data, "setting") else []
    elif code == "assessment":
        found += ["IEP-E040"] if _blank(data, "assessment") else []
    elif code == "signatures":
        found += ["IEP-E050"] if _blank(data, "parent_participated") else []
        found += ["IEP-W051"] if _blank(data, "parent_signature_date") else []
    elif code == "transition":
        found += ["IEP-E061"] if _blank(data, "postsecondary_goals") else []
    elif code == "esy":
        answer = data.get("esy_eligible")
        found += ["IEP-E070"] if answer not in ("Yes", "No") else []
        found += ["IEP-E071"] if answer == "Yes" and _blank(data, "esy_services") else []
    elif code == "site_determination":
        site = find_org(str(data.get("site_code") or "").strip()) if not _blank(data, "site_code") else None
        if site is None or site.id not in covered_org_ids(iep.lea) or site.kind in ("state", "lea"):
            found.append("IEP-E080")
        found += ["IEP-E081"] if _blank(data, "reason") else []
    elif code == "amendments":
        found += ["IEP-E090"] if _blank(data, "parent_contact_method") else []
        found += ["IEP-E091"] if _blank(data, "explanation") else []
        day = _date(data.get("amendment_date"))
        if day is None or day > clock.today() or (iep.team_meeting_date and day < iep.team_meeting_date):
            found.append("IEP-E092")
    return found


def validate(iep: Iep, timeline_days: int = INITIAL_IEP_DAYS) -> Result:
    """Check every form of ``iep`` (and the forms its student's age requires)."""
    codes = {form.code: form for form in iep.forms}
    by_form: dict[str, list[str]] = {"general": _general(iep, timeline_days)}
    for code, form in codes.items():
        if code != "general":
            by_form[code] = _form(iep, code, form.data or {})
    if "transition" not in codes and iep.end_date is not None and \
            _add_year(iep.student.birth_date, TRANSITION_AGE) <= iep.end_date:
        by_form["general"].append("IEP-E060")
    order = [c for c in ("general", *[f.code for f in iep.forms]) if c in by_form]
    forms = []
    for code in dict.fromkeys(order):
        findings = [Finding(code, CODE_BY_ID[x].level, x) for x in by_form[code]]
        status = "error" if any(f.level == "error" for f in findings) else ("warning" if findings else "pass")
        forms.append((code, status, findings))
    return Result(forms)


def title(code: str) -> str:
    return BY_CODE[code].title
