"""Evaluations, most recent first: initial evaluations, re-evaluations and triennial waivers,
with their exceptionalities; and Close Jurisdiction when the parent declines the initial one.

The rules and their messages follow the SER screens:
- initial: Permission Request Date, Parent Decision and Decision/Start Date are saved first; the
  remaining information (completion, eligibility, exceptionalities) only after, and only when the
  parent gave consent; the Evaluation Coordinator is optional;
- re-evaluation: a reason is required; there is no parent decision or eligibility date;
- triennial waiver: only the date the parent signed it, which becomes the new evaluation date;
  the rest (the exceptionalities) is carried from the latest evaluation and cannot be changed.
"""
from __future__ import annotations

import datetime as _dt
import re

from edlink import clock
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import StaffRecord, User
from roles import gate
from ser_core import jurisdiction
from ser_core.access import WRITE, event, org_of, touch
from ser_core.guardians import require_guardian
from ser_core.models import Evaluation, Exceptionality, SerStudent
from ser_core.presenters import evaluation_view

KINDS = {"initial": "Initial", "reevaluation": "Re-Evaluation", "triennial_waiver": "Triennial Waiver"}
PARENT_DECISIONS = {"consent": "Consent Given", "declined": "Consent Declined"}
REEVALUATION_REASONS = ("Triennial Re-Evaluation", "Change of Exceptionality", "Additional Exceptionality",
                        "Parent Request", "School Request", "Dismissal from Special Education")
EXCEPTIONALITIES = ("Autism", "Deaf-Blindness", "Deafness", "Developmental Delay", "Emotional Disturbance",
                    "Hearing Impairment", "Intellectual Disability", "Multiple Disabilities",
                    "Orthopedic Impairment", "Other Health Impairment", "Specific Learning Disability",
                    "Speech or Language Impairment", "Traumatic Brain Injury", "Visual Impairment",
                    "Gifted", "Talented")
LABELS = {"permission_request_date": "Permission Request Date", "parent_decision": "Parent Decision",
          "decision_date": "Decision/Start Date", "completion_date": "Evaluation Completion Date",
          "eligibility_date": "Eligibility Determination Date", "reevaluation_reason": "Re-Evaluation Reason",
          "parent_signature_date": "Parent Signature Date", "coordinator_staff_id": "Evaluation Coordinator",
          "declined_on": "Decline Date"}
DATES = ("permission_request_date", "decision_date", "completion_date", "eligibility_date", "parent_signature_date",
         "declined_on")
FIRST_STEP = ("permission_request_date", "parent_decision", "decision_date")
REST = ("completion_date", "eligibility_date")
FIRST_STEP_MESSAGE = ("Permission Request Date, Parent Decision and Decision/Start Date must be saved before you "
                      "can enter the remaining evaluation information.")
WAIVER_ONLY_MESSAGE = ("A triennial waiver only takes the date the parent signed the waiver; the rest of the "
                       "evaluation information cannot be changed.")
STAFF_ID_RE = re.compile(r"^\d{10}$")


def _refuse(code: str, message: str, *names: str):
    raise Invalid(code, message, fields={name: [message] for name in names})


def evaluations(student: SerStudent) -> list[Evaluation]:
    """The student's evaluations, the most recent first."""
    return list(db.session.execute(db.select(Evaluation).where(Evaluation.student_id == student.id)
                                   .order_by(Evaluation.evaluation_date.desc(), Evaluation.id.desc())).scalars())


def get_evaluation(student: SerStudent, evaluation_id: int) -> Evaluation:
    found = db.session.get(Evaluation, evaluation_id)
    if found is None or found.student_id != student.id:
        raise NotFound("evaluation_not_found", "This student has no such evaluation.")
    return found


def _clean(values: dict) -> dict:
    """Given values only (empty ones dropped), dates parsed and checked, choices checked."""
    out = {}
    for name, label in LABELS.items():
        value = values.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            continue
        if name in DATES and not isinstance(value, _dt.date):
            try:
                value = _dt.date.fromisoformat(value)
            except ValueError:
                _refuse("invalid_date", f"{label} must be a date.", name)
        if name in DATES and value > clock.today():
            _refuse("date_in_future", f"{label} cannot be in the future.", name)
        out[name] = value
    if "parent_decision" in out and out["parent_decision"] not in PARENT_DECISIONS:
        _refuse("invalid_choice", "Parent Decision must be Consent Given or Consent Declined.", "parent_decision")
    if "reevaluation_reason" in out and out["reevaluation_reason"] not in REEVALUATION_REASONS:
        _refuse("invalid_choice", "Choose a Re-Evaluation Reason from the list.", "reevaluation_reason")
    coordinator = out.get("coordinator_staff_id")
    if coordinator and (not STAFF_ID_RE.match(coordinator) or db.session.execute(
            db.select(StaffRecord.id).where(StaffRecord.staff_id == coordinator)).first() is None):
        _refuse("unknown_coordinator", "The Evaluation Coordinator must be the 10-digit staff ID of a staff member "
                "in the staff directory.", "coordinator_staff_id")
    return out


def _latest_result(student: SerStudent, other_than: Evaluation | None = None) -> Evaluation | None:
    """The latest evaluation that determined eligibility (what a re-evaluation or waiver follows)."""
    for found in evaluations(student):
        if found is other_than:
            continue
        if found.kind != "initial" or found.eligibility_date is not None:
            return found
    return None


def _follows(student: SerStudent, found: Evaluation, on: _dt.date, field: str, none_message: str) -> Evaluation:
    """The latest evaluation a re-evaluation or waiver dated ``on`` follows (``on`` must be after it)."""
    previous = _latest_result(student, found)
    if previous is None:
        _refuse("no_earlier_evaluation", none_message, field)
    if on <= previous.evaluation_date:
        _refuse("not_after_latest", f"The {LABELS[field]} must be after the latest evaluation date "
                f"({previous.evaluation_date:%m/%d/%Y}).", field)
    return previous


def _initial(found: Evaluation, values: dict, creating: bool) -> None:
    if creating and any(values.get(name) for name in REST):
        _refuse("first_step_required", FIRST_STEP_MESSAGE, *[n for n in REST if values.get(n)])
    merged = {name: values.get(name, getattr(found, name)) for name in (*FIRST_STEP, *REST)}
    missing = [name for name in FIRST_STEP if not merged[name]]
    if missing:
        _refuse("first_step_required", FIRST_STEP_MESSAGE, *missing)
    if merged["decision_date"] < merged["permission_request_date"]:
        _refuse("decision_before_request", "The Decision/Start Date cannot be before the Permission Request Date.",
                "decision_date")
    if merged["parent_decision"] == "declined" and (merged["completion_date"] or merged["eligibility_date"]):
        _refuse("parent_declined", "The parent declined the initial evaluation: use the Close Jurisdiction tab "
                "instead of entering evaluation results.", *[n for n in REST if merged[n]])
    if merged["eligibility_date"] and not merged["completion_date"]:
        _refuse("completion_required", "Enter the Evaluation Completion Date before the Eligibility Determination "
                "Date.", "completion_date")
    if merged["completion_date"] and merged["completion_date"] < merged["decision_date"]:
        _refuse("completion_before_start", "The Evaluation Completion Date cannot be before the Decision/Start Date.",
                "completion_date")
    if merged["eligibility_date"] and merged["eligibility_date"] < merged["completion_date"]:
        _refuse("eligibility_before_completion", "The Eligibility Determination Date cannot be before the "
                "Evaluation Completion Date.", "eligibility_date")
    for name in (*FIRST_STEP, *REST):
        setattr(found, name, merged[name])
    found.evaluation_date = merged["eligibility_date"] or merged["decision_date"]


def _reevaluation(student: SerStudent, found: Evaluation, values: dict) -> None:
    given = [n for n in ("parent_decision", "eligibility_date", "parent_signature_date") if n in values]
    if given:
        _refuse("not_for_reevaluation", "A re-evaluation has no Parent Decision or Eligibility Determination Date.",
                *given)
    reason = values.get("reevaluation_reason", found.reevaluation_reason)
    if not reason:
        _refuse("reason_required", "Re-evaluations require a re-evaluation reason.", "reevaluation_reason")
    done = values.get("completion_date", found.completion_date)
    if not done:
        _refuse("completion_required", "Evaluation Completion Date is required.", "completion_date")
    _follows(student, found, done, "completion_date", "A re-evaluation follows an earlier evaluation of the "
             "student; enter the initial evaluation first.")
    found.reevaluation_reason, found.completion_date, found.evaluation_date = reason, done, done
    for name in ("permission_request_date", "decision_date", "coordinator_staff_id"):
        if name in values:
            setattr(found, name, values[name])


def _waiver(student: SerStudent, found: Evaluation, values: dict, creating: bool) -> Evaluation | None:
    others = [n for n in values if n != "parent_signature_date"]
    if others:
        _refuse("waiver_date_only", WAIVER_ONLY_MESSAGE, *others)
    signed = values.get("parent_signature_date", found.parent_signature_date)
    if not signed:
        _refuse("signature_date_required", "Parent Signature Date is required.", "parent_signature_date")
    previous = _follows(student, found, signed, "parent_signature_date", "A triennial waiver carries an earlier "
                        "evaluation forward; the student has none.")
    found.parent_signature_date = found.evaluation_date = signed
    return previous if creating else None


def save_evaluation(student: SerStudent, kind: str, values: dict, user: User,
                    found: Evaluation | None = None) -> Evaluation:
    """Enter (or, with ``found``, modify) an evaluation of ``kind``."""
    gate.require(WRITE, org_of(student), user)
    require_guardian(student)
    if kind not in KINDS:
        _refuse("invalid_kind", "Choose the type of evaluation: Initial, Re-Evaluation or Triennial Waiver.", "kind")
    if found is not None and found.kind != kind:
        _refuse("kind_fixed", f"This is a {KINDS[found.kind]} evaluation; its type cannot be changed.", "kind")
    clean = _clean(values)
    creating = found is None
    if creating:
        found = Evaluation(student_id=student.id, lea_id=student.lea_id, kind=kind)
    before = evaluation_view(found) if not creating else None
    if kind == "initial":
        foreign = sorted({"reevaluation_reason", "parent_signature_date"} & set(clean))
        if foreign:
            _refuse("not_for_initial", "An initial evaluation has no Re-Evaluation Reason or Parent Signature Date.",
                    *foreign)
        if "coordinator_staff_id" in clean:
            found.coordinator_staff_id = clean["coordinator_staff_id"]
        _initial(found, {k: v for k, v in clean.items() if k in (*FIRST_STEP, *REST)}, creating)
    elif kind == "reevaluation":
        _reevaluation(student, found, clean)
    else:
        carried = _waiver(student, found, clean, creating)
        if carried is not None:
            found.exceptionalities = [Exceptionality(code=x.code, detail=x.detail, is_primary=x.is_primary)
                                      for x in carried.exceptionalities]
    found.updated_at = clock.now()
    if creating:
        db.session.add(found)
    touch(student)
    db.session.flush()
    after = evaluation_view(found)
    if creating:
        event("ser.evaluation.added", user, student, {"evaluation": after})
    else:
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changed:
            event("ser.evaluation.changed", user, student, {"evaluation_id": found.id, "changed": changed})
    return found


def close_jurisdiction(student: SerStudent, found: Evaluation | None, declined_on, user: User) -> Evaluation:
    """Close Jurisdiction tab: the parent declined the initial evaluation (``found``, default the
    latest initial one) on ``declined_on``."""
    gate.require(WRITE, org_of(student), user)
    if found is None:
        found = next((e for e in evaluations(student) if e.kind == "initial"), None)
    if found is None or found.kind != "initial" or found.parent_decision != "declined":
        _refuse("not_declined", "Close Jurisdiction is for an initial evaluation the parent declined.", "declined_on")
    clean = _clean({"declined_on": declined_on})
    if "declined_on" not in clean:
        _refuse("decline_date_required", "Decline Date is required.", "declined_on")
    if clean["declined_on"] < found.permission_request_date:
        _refuse("decline_before_request", "The Decline Date cannot be before the Permission Request Date.",
                "declined_on")
    found.declined_on = clean["declined_on"]
    jurisdiction.close(student, found.declined_on, user, "the parent declined the initial evaluation")
    return found
