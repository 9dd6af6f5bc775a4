"""An evaluation's exceptionalities: Add New, with exactly one primary; a triennial waiver's are
carried from the evaluation it extends and cannot be changed."""
from __future__ import annotations

from edlink import clock
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import User
from roles import gate
from ser_core.access import WRITE, event, org_of, touch
from ser_core.evaluations import EXCEPTIONALITIES, WAIVER_ONLY_MESSAGE
from ser_core.models import Evaluation, Exceptionality, SerStudent

PRIMARY_MESSAGE = "A primary exceptionality must be selected."


def _editable(found: Evaluation) -> None:
    if found.kind == "triennial_waiver":
        raise Invalid("waiver_date_only", WAIVER_ONLY_MESSAGE, fields={"code": [WAIVER_ONLY_MESSAGE]})
    if found.kind == "initial" and found.parent_decision != "consent":
        message = "Exceptionalities are entered for an initial evaluation the parent consented to."
        raise Invalid("parent_declined", message, fields={"code": [message]})


def add_exceptionality(student: SerStudent, found: Evaluation, code: str | None, detail: str | None,
                       primary: bool, user: User) -> Exceptionality:
    gate.require(WRITE, org_of(student), user)
    _editable(found)
    code, detail = (code or "").strip(), (detail or "").strip()[:100]
    if code not in EXCEPTIONALITIES:
        raise Invalid("invalid_exceptionality", "Choose an exceptionality from the list.",
                      fields={"code": ["Choose an exceptionality from the list."]})
    present = {x.code: x for x in found.exceptionalities}
    if code in present:
        raise Invalid("duplicate_exceptionality", f"{code} is already on this evaluation.",
                      fields={"code": [f"{code} is already on this evaluation."]})
    current_primary = next((x for x in found.exceptionalities if x.is_primary), None)
    if primary and current_primary is not None:
        message = f"Only one exceptionality can be primary: {current_primary.code} already is."
        raise Invalid("one_primary", message, fields={"primary": [message]})
    if not primary and current_primary is None:
        raise Invalid("primary_required", PRIMARY_MESSAGE, fields={"primary": [PRIMARY_MESSAGE]})
    added = Exceptionality(code=code, detail=detail, is_primary=primary)
    found.exceptionalities.append(added)
    found.updated_at = clock.now()
    touch(student)
    db.session.flush()
    event("ser.evaluation.exceptionality_added", user, student,
          {"evaluation_id": found.id, "code": code, "detail": detail, "primary": primary})
    return added


def remove_exceptionality(student: SerStudent, found: Evaluation, exceptionality_id: int, user: User) -> None:
    gate.require(WRITE, org_of(student), user)
    _editable(found)
    gone = next((x for x in found.exceptionalities if x.id == exceptionality_id), None)
    if gone is None:
        raise NotFound("exceptionality_not_found", "This evaluation has no such exceptionality.")
    if gone.is_primary and len(found.exceptionalities) > 1:
        message = f"{PRIMARY_MESSAGE} Remove the other exceptionalities before the primary one."
        raise Invalid("primary_required", message, fields={"primary": [message]})
    found.exceptionalities.remove(gone)
    found.updated_at = clock.now()
    touch(student)
    db.session.flush()
    event("ser.evaluation.exceptionality_removed", user, student,
          {"evaluation_id": found.id, "code": gone.code, "primary": gone.is_primary})
