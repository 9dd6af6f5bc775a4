"""The IEP life cycle: Draft → (validate) → Official → Submitted to SER; an official IEP is amended
(Amended-Draft, with the Amendments form) and made official again, as often as needed; each
official version is kept.

Permissions (roles.gate, at the student's site): ``eser.iep.edit`` to create, change, validate,
make official and amend; ``eser.iep.submit`` to submit. Only the LEA with an open jurisdiction
works on the student's IEPs.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app

from edlink import clock
from edlink.errors import Conflict, Invalid, NotFound
from edlink.extensions import db
from edlink.models import User
from roles import gate
from ser_core.access import event, org_of, touch
from ser_core.dates import parse_date
from ser_core.guardians import require_guardian
from ser_core.ieps.catalogue import BY_CODE, GENERAL_FIELDS, IEP_TYPES, OPTIONAL, ORDER, REQUIRED, STATUSES
from ser_core.ieps.validation import Result, validate
from ser_core.models import SerStudent
from ser_core.models_iep import Iep, IepForm, IepVersion

IEP_EDIT, IEP_SUBMIT = "eser.iep.edit", "eser.iep.submit"
EDITABLE = ("draft", "amended_draft")


def _refuse(code: str, message: str, *names: str, cls=Invalid):
    raise cls(code, message, fields={name: [message] for name in names} or None)


def timeline_days() -> int:
    return int(current_app.config["SER_IEP_TIMELINE_DAYS"])


def ieps(student: SerStudent) -> list[Iep]:
    """The student's IEPs, the most recent team meeting first (drafts without a date on top)."""
    return list(db.session.execute(db.select(Iep).where(Iep.student_id == student.id).order_by(
        Iep.team_meeting_date.is_(None).desc(), Iep.team_meeting_date.desc(), Iep.id.desc())).scalars())


def get_iep(iep_id: int) -> Iep:
    found = db.session.get(Iep, iep_id)
    if found is None:
        raise NotFound("iep_not_found", f"There is no IEP {iep_id}.")
    return found


def _require_jurisdiction(student: SerStudent) -> None:
    if not student.jurisdiction_open:
        raise Conflict("no_open_jurisdiction", "The student has no open jurisdiction; only the LEA with "
                       "jurisdiction works on the student's IEPs.")


def _editable(iep: Iep, user: User) -> None:
    gate.require(IEP_EDIT, org_of(iep.student), user)
    _require_jurisdiction(iep.student)
    if iep.status not in EDITABLE:
        raise Conflict("iep_not_editable", "This IEP is official: amend it to make changes.")


def _date(name: str, label: str, value) -> _dt.date | None:
    return parse_date(value, name, label)


def create_iep(student: SerStudent, iep_type: str, team_meeting_date, user: User) -> Iep:
    """Add New: a draft IEP with the required forms."""
    gate.require(IEP_EDIT, org_of(student), user)
    _require_jurisdiction(student)
    require_guardian(student)
    if iep_type not in IEP_TYPES:
        _refuse("invalid_iep_type", "Choose the IEP Type: " + ", ".join(IEP_TYPES.values()) + ".", "iep_type")
    working = db.session.execute(db.select(Iep).where(Iep.student_id == student.id,
                                                      Iep.status.in_(EDITABLE))).scalars().first()
    if working is not None:
        raise Conflict("iep_in_progress", f"The student already has an IEP in progress ({STATUSES[working.status]}, "
                       f"IEP {working.id}); finish it before adding another.")
    iep = Iep(student_id=student.id, lea_id=student.lea_id, iep_type=iep_type, status="draft",
              team_meeting_date=_date("team_meeting_date", "Team Meeting Date", team_meeting_date),
              created_by_id=user.id, version=1, submitted=False)
    iep.forms = [IepForm(code=code, position=ORDER[code], data={}) for code in REQUIRED]
    db.session.add(iep)
    touch(student)
    db.session.flush()
    event("ser.iep.created", user, student, {"iep_id": iep.id, "iep_type": iep_type})
    return iep


def form_of(iep: Iep, code: str) -> IepForm:
    found = next((f for f in iep.forms if f.code == code), None)
    if found is None:
        raise NotFound("form_not_on_iep", f"The {BY_CODE[code].title if code in BY_CODE else code} form is not on "
                       "this IEP.")
    return found


def save_form(iep: Iep, code: str, values: dict, user: User) -> IepForm:
    """Save one form's answers (only the fields it has; General Information's go on the IEP)."""
    _editable(iep, user)
    form = form_of(iep, code)
    fields = {f.name: f for f in BY_CODE[code].fields}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        _refuse("unknown_field", f"The {BY_CODE[code].title} form has no field {unknown[0]!r}.", *unknown)
    changed = {}
    if code == "general":
        for name in GENERAL_FIELDS:
            if name not in values:
                continue
            value = values[name]
            if name == "iep_type":
                if value not in IEP_TYPES:
                    _refuse("invalid_iep_type", "Choose the IEP Type: " + ", ".join(IEP_TYPES.values()) + ".", name)
            else:
                value = _date(name, fields[name].label, value)
            if name == "team_meeting_date" and iep.version > 1 and value != iep.team_meeting_date:
                _refuse("meeting_date_fixed", "The Team Meeting Date does not change with amendments.", name)
            if getattr(iep, name) != value:
                changed[name] = [_show(getattr(iep, name)), _show(value)]
                setattr(iep, name, value)
    else:
        data = dict(form.data or {})
        for name, value in values.items():
            field = fields[name]
            value = "" if value is None else str(value).strip()
            if field.kind == "choice" and value and value not in field.choices:
                _refuse("invalid_choice", f"Choose {field.label} from the list.", name)
            if field.kind == "date" and value:
                value = _date(name, field.label, value).isoformat()
            if data.get(name, "") != value:
                changed[name] = [data.get(name, ""), value]
                data[name] = value
        form.data = data
    if changed:
        iep.updated_at = clock.now()
        iep.validated_at = None
        touch(iep.student)
        db.session.flush()
        event("ser.iep.changed", user, iep.student, {"iep_id": iep.id, "form": code, "changed": changed})
    return form


def _show(value):
    return value.isoformat() if isinstance(value, _dt.date) else value


def set_forms(iep: Iep, wanted: list[str] | set[str], user: User) -> None:
    """Add/Delete Forms to IEP: the optional forms checked are on the IEP, the others are not."""
    _editable(iep, user)
    wanted = set(wanted)
    unknown = sorted(wanted - set(BY_CODE))
    if unknown:
        _refuse("unknown_form", f"There is no IEP form {unknown[0]!r}.", "forms")
    fixed = sorted(wanted & set(REQUIRED) | (wanted & {"amendments"}))
    wanted -= set(fixed)
    have = {f.code for f in iep.forms}
    added = sorted(c for c in wanted - have if c in OPTIONAL)
    removed = sorted(c for c in have & set(OPTIONAL) if c not in wanted)
    for code in added:
        iep.forms.append(IepForm(code=code, position=ORDER[code], data={}))
    for code in removed:
        iep.forms.remove(form_of(iep, code))
    if added or removed:
        iep.forms.sort(key=lambda f: f.position)
        iep.validated_at = None
        db.session.flush()
        event("ser.iep.forms_changed", user, iep.student, {"iep_id": iep.id, "added": added, "removed": removed})


def run_validation(iep: Iep, user: User) -> Result:
    """Validate (recorded: ``ser.iep.validated`` with the error and warning codes)."""
    gate.require(IEP_EDIT, org_of(iep.student), user)
    result = validate(iep, timeline_days())
    if iep.status in EDITABLE:
        iep.validated_at = clock.now() if result.ok else None
    db.session.flush()
    event("ser.iep.validated", user, iep.student, {"iep_id": iep.id, "errors": [f.code for f in result.errors],
                                                   "warnings": [f.code for f in result.warnings]})
    return result


def content(iep: Iep) -> dict:
    """Everything the IEP says (what a version keeps)."""
    return {"iep_type": iep.iep_type, "team_meeting_date": _show(iep.team_meeting_date),
            "begin_date": _show(iep.begin_date), "end_date": _show(iep.end_date), "version": iep.version,
            "forms": {f.code: dict(f.data or {}) for f in iep.forms if f.code != "general"}}


def make_official(iep: Iep, user: User) -> Iep:
    """Official/Signed: only an IEP whose validation shows no error."""
    _editable(iep, user)
    result = validate(iep, timeline_days())
    if not result.ok:
        codes = ", ".join(f.code for f in result.errors)
        raise Conflict("iep_has_errors", f"The IEP cannot be made official until its errors are resolved ({codes}).",
                       fields={"errors": [f"{f.code}: {f.message}" for f in result.errors]})
    now = clock.now()
    iep.status, iep.made_official_at, iep.validated_at, iep.updated_at = "official", now, now, now
    iep.submitted, iep.submitted_at, iep.submitted_by_id = False, None, None
    iep.versions.append(IepVersion(version=iep.version, content=content(iep), made_official_at=now,
                                   made_official_by_id=user.id))
    touch(iep.student)
    db.session.flush()
    event("ser.iep.made_official", user, iep.student, {"iep_id": iep.id, "version": iep.version,
                                                       "warnings": [f.code for f in result.warnings]})
    return iep


def submit(iep: Iep, user: User) -> Iep:
    """Submit to SER: official IEPs only, by holders of ``eser.iep.submit`` (403 and audited otherwise).
    The initial IEP, or the first after an exit, opens the student's special-education activity."""
    from ser_core.activity import open_for
    gate.require(IEP_SUBMIT, org_of(iep.student), user)
    _require_jurisdiction(iep.student)
    if iep.status != "official":
        raise Conflict("iep_not_official", "Only an official IEP can be submitted to SER; make it official first.")
    if iep.submitted:
        raise Conflict("iep_already_submitted", "This version of the IEP is already submitted to SER.")
    now = clock.now()
    activity = open_for(iep, user)
    iep.submitted, iep.submitted_at, iep.submitted_by_id = True, now, user.id
    max(iep.versions, key=lambda v: v.version).submitted_at = now
    touch(iep.student)
    db.session.flush()
    event("ser.iep.submitted", user, iep.student, {"iep_id": iep.id, "version": iep.version,
                                                   "activity_opened": activity.id if activity else None})
    return iep


def amend(iep: Iep, user: User) -> Iep:
    """Amend an official IEP: Amended-Draft, the next version, a fresh Amendments form."""
    gate.require(IEP_EDIT, org_of(iep.student), user)
    _require_jurisdiction(iep.student)
    if iep.status != "official":
        raise Conflict("iep_not_official", "Only an official IEP can be amended.")
    iep.status, iep.version, iep.validated_at, iep.updated_at = "amended_draft", iep.version + 1, None, clock.now()
    iep.submitted = False
    existing = next((f for f in iep.forms if f.code == "amendments"), None)
    if existing is not None:
        existing.data = {}
    else:
        iep.forms.append(IepForm(code="amendments", position=ORDER["amendments"], data={}))
        iep.forms.sort(key=lambda f: f.position)
    touch(iep.student)
    db.session.flush()
    event("ser.iep.amended", user, iep.student, {"iep_id": iep.id, "version": iep.version})
    return iep


def delete_draft(iep: Iep, user: User) -> None:
    """Delete a draft that was never official (an amended IEP keeps its versions)."""
    _editable(iep, user)
    if iep.versions:
        raise Conflict("iep_has_versions", "An amended IEP cannot be deleted; its official versions are kept.")
    student = iep.student
    db.session.delete(iep)
    db.session.flush()
    event("ser.iep.deleted", user, student, {"iep_id": iep.id})
