"""IEPs and special education activity under /api/v1/ser: create, forms, validate, official,
submit, amend; the activity record and its exit."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink.api import login_required, me
from roles import gate
from ser_core import activity as sped
from ser_core.access import READ, WRITE, load, org_of
from ser_core.ieps import service as ieps
from ser_core.ieps.catalogue import CODES, FORMS
from ser_core.ieps.presenters import activity_view, iep_view, result_view

blp = Blueprint("ser_iep_api", __name__, url_prefix="/api/v1/ser", description="SER: IEPs and sped activity")


class SerIepIn(Schema):
    iep_type = fields.String(required=True, metadata={"description": "initial | annual | reevaluation | transfer"})
    team_meeting_date = fields.Date(load_default=None)


class SerIepFormsIn(Schema):
    forms = fields.List(fields.String(), required=True,
                        metadata={"description": "the optional forms the IEP should have (the others are removed)"})


class SerExitIn(Schema):
    exit_date = fields.Date(load_default=None)
    exit_reason = fields.String(load_default=None)


def _iep(iep_id: int, permission: str = READ):
    found = ieps.get_iep(iep_id)
    gate.require(permission, org_of(found.student), me())
    return found


@blp.route("/ieps/catalogue", methods=["GET"])
@login_required
def catalogue():
    """The IEP forms and the error codes (code, definition, solution)."""
    return {"forms": [{"code": f.code, "title": f.title, "required": f.required,
                       "fields": [{"name": x.name, "label": x.label, "kind": x.kind, "choices": list(x.choices)}
                                  for x in f.fields]} for f in FORMS],
            "codes": [{"code": c.code, "level": c.level, "form": c.form, "definition": c.definition,
                       "solution": c.solution} for c in CODES]}


@blp.route("/students/<state_id>/ieps", methods=["GET"])
@login_required
def list_ieps(state_id: str):
    """The student's IEPs (IEP Forms list): status, version and Submitted to SER (Y/N)."""
    student = load(state_id, READ, me(), viewed="ieps")
    return {"state_id": student.state_id, "ieps": [iep_view(i, full=False) for i in ieps.ieps(student)]}


@blp.route("/students/<state_id>/ieps", methods=["POST"])
@login_required
@blp.arguments(SerIepIn)
def post_iep(body, state_id: str):
    """Add New: a draft IEP with the required forms (``eser.iep.edit``)."""
    student = load(state_id, READ, me())
    return iep_view(ieps.create_iep(student, body["iep_type"], body["team_meeting_date"], me())), 201


@blp.route("/ieps/<int:iep_id>", methods=["GET"])
@login_required
def get_iep(iep_id: int):
    """One IEP with its forms and its kept official versions."""
    return iep_view(_iep(iep_id))


@blp.route("/ieps/<int:iep_id>", methods=["DELETE"])
@login_required
def delete_iep(iep_id: int):
    """Delete a draft that was never official."""
    ieps.delete_draft(_iep(iep_id), me())
    return "", 204


@blp.route("/ieps/<int:iep_id>/forms", methods=["PUT"])
@login_required
@blp.arguments(SerIepFormsIn)
def put_forms(body, iep_id: int):
    """Add/Delete Forms to IEP: list the optional forms wanted (required forms always stay)."""
    found = _iep(iep_id)
    ieps.set_forms(found, body["forms"], me())
    return iep_view(found)


@blp.route("/ieps/<int:iep_id>/forms/<code>", methods=["PUT"])
@login_required
def put_form(iep_id: int, code: str):
    """Save one form's fields (a JSON object of field name to value)."""
    from flask import request
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        from edlink.errors import Invalid
        raise Invalid("invalid_body", "Send the form's fields as a JSON object.")
    found = _iep(iep_id)
    ieps.save_form(found, code, body, me())
    return iep_view(found)


@blp.route("/ieps/<int:iep_id>/validate", methods=["POST"])
@login_required
def post_validate(iep_id: int):
    """Validate: per form, errors (block), warnings (do not block) and passes, with codes."""
    found = _iep(iep_id)
    return result_view(found, ieps.run_validation(found, me()))


@blp.route("/ieps/<int:iep_id>/official", methods=["POST"])
@login_required
def post_official(iep_id: int):
    """Make This IEP Official (409 ``iep_has_errors`` while validation shows errors)."""
    return iep_view(ieps.make_official(_iep(iep_id), me()))


@blp.route("/ieps/<int:iep_id>/submit", methods=["POST"])
@login_required
def post_submit(iep_id: int):
    """Submit to SER (``eser.iep.submit``; official IEPs only)."""
    return iep_view(ieps.submit(_iep(iep_id), me()))


@blp.route("/ieps/<int:iep_id>/amend", methods=["POST"])
@login_required
def post_amend(iep_id: int):
    """Amend an official IEP: Amended-Draft with the Amendments form."""
    return iep_view(ieps.amend(_iep(iep_id), me()))


@blp.route("/students/<state_id>/activity", methods=["GET"])
@login_required
def get_activity(state_id: str):
    """Sped Activity: when the student entered and exited special education, most recent first."""
    student = load(state_id, READ, me(), viewed="activity")
    return {"state_id": student.state_id, "activity": [activity_view(a) for a in sped.activities(student)]}


@blp.route("/students/<state_id>/exit", methods=["POST"])
@login_required
@blp.arguments(SerExitIn)
def post_exit(body, state_id: str):
    """Close the open activity with an exit date and exit reason (services terminated first)."""
    student = load(state_id, WRITE, me())
    return activity_view(sped.close_activity(student, body["exit_date"], body["exit_reason"], me()))
