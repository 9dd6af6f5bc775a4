"""A student's parts under /api/v1/ser/students/{state_id}/...: guardians, attachments,
evaluations (with exceptionalities) and Close Jurisdiction."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink.api import login_required, me
from ser_core import attachments as files
from ser_core import evaluations as evals
from ser_core import guardians as people
from ser_core.access import READ, WRITE, load
from ser_core.exceptionalities import add_exceptionality, remove_exceptionality
from ser_core.presenters import attachment_view, evaluation_view, guardian_view

blp = Blueprint("ser_records_api", __name__, url_prefix="/api/v1/ser/students",
                description="SER: guardians, attachments and evaluations of a student")


class SerGuardianIn(Schema):
    title = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    suffix = fields.String()
    relationship = fields.String()
    address = fields.String()
    city = fields.String()
    state = fields.String()
    zip_code = fields.String()
    phone = fields.String()
    email = fields.String()


class SerAttachmentEditIn(Schema):
    description = fields.String(required=True)


class SerEvaluationIn(Schema):
    kind = fields.String(load_default=None, metadata={"description": "initial | reevaluation | triennial_waiver"})
    permission_request_date = fields.Date()
    parent_decision = fields.String(metadata={"description": "consent | declined"})
    decision_date = fields.Date()
    completion_date = fields.Date()
    eligibility_date = fields.Date()
    reevaluation_reason = fields.String()
    parent_signature_date = fields.Date()
    coordinator_staff_id = fields.String()


class SerExceptionalityIn(Schema):
    code = fields.String(required=True)
    detail = fields.String(load_default="")
    primary = fields.Boolean(load_default=False)


class CloseJurisdictionIn(Schema):
    declined_on = fields.Date(load_default=None)
    evaluation_id = fields.Integer(load_default=None)


@blp.route("/<state_id>/guardians", methods=["GET"])
@login_required
def list_guardians(state_id: str):
    student = load(state_id, READ, me(), viewed="guardians")
    return {"state_id": student.state_id, "guardians": [guardian_view(g) for g in people.guardians(student)]}


@blp.route("/<state_id>/guardians", methods=["POST"])
@login_required
@blp.arguments(SerGuardianIn)
def post_guardian(body, state_id: str):
    """Add a parent/guardian (first name, last name, relationship required; title, suffix optional)."""
    student = load(state_id, WRITE, me())
    return guardian_view(people.save_guardian(student, body, me())), 201


@blp.route("/<state_id>/guardians/<int:guardian_id>", methods=["PUT"])
@login_required
@blp.arguments(SerGuardianIn)
def put_guardian(body, state_id: str, guardian_id: int):
    student = load(state_id, WRITE, me())
    return guardian_view(people.save_guardian(student, body, me(), people.get_guardian(student, guardian_id)))


@blp.route("/<state_id>/guardians/<int:guardian_id>", methods=["DELETE"])
@login_required
def delete_guardian(state_id: str, guardian_id: int):
    student = load(state_id, WRITE, me())
    people.delete_guardian(student, people.get_guardian(student, guardian_id), me())
    return "", 204


@blp.route("/<state_id>/attachments", methods=["GET"])
@login_required
def list_attachments(state_id: str):
    student = load(state_id, READ, me(), viewed="attachments")
    return {"state_id": student.state_id, "attachments": [attachment_view(a) for a in files.attachments(student)]}


@blp.route("/<state_id>/attachments", methods=["POST"])
@login_required
def post_attachment(state_id: str):
    """Upload (multipart/form-data: ``file`` and ``description``); size and type limits apply."""
    student = load(state_id, WRITE, me())
    upload = request.files.get("file")
    data = upload.read() if upload and upload.filename else None
    found = files.add_attachment(student, upload.filename if upload else None, data, request.form.get("description"),
                                 me())
    return attachment_view(found), 201


@blp.route("/<state_id>/attachments/<int:attachment_id>", methods=["GET"])
@login_required
def get_attachment(state_id: str, attachment_id: int):
    """The file itself (audited as ser.attachment.viewed)."""
    student = load(state_id, READ, me())
    found = files.get_attachment(student, attachment_id)
    return files.download(student, found, me())


@blp.route("/<state_id>/attachments/<int:attachment_id>", methods=["PUT"])
@login_required
@blp.arguments(SerAttachmentEditIn)
def put_attachment(body, state_id: str, attachment_id: int):
    student = load(state_id, WRITE, me())
    found = files.edit_attachment(student, files.get_attachment(student, attachment_id), body["description"], me())
    return attachment_view(found)


@blp.route("/<state_id>/attachments/<int:attachment_id>", methods=["DELETE"])
@login_required
def delete_attachment(state_id: str, attachment_id: int):
    student = load(state_id, WRITE, me())
    files.delete_attachment(student, files.get_attachment(student, attachment_id), me())
    return "", 204


@blp.route("/<state_id>/evaluations", methods=["GET"])
@login_required
def list_evaluations(state_id: str):
    """The student's evaluations, most recent first."""
    student = load(state_id, READ, me(), viewed="evaluations")
    return {"state_id": student.state_id, "evaluations": [evaluation_view(e) for e in evals.evaluations(student)]}


@blp.route("/<state_id>/evaluations", methods=["POST"])
@login_required
@blp.arguments(SerEvaluationIn)
def post_evaluation(body, state_id: str):
    """Enter an evaluation: ``kind`` and its fields (see the rules in README: SER)."""
    student = load(state_id, WRITE, me())
    kind = body.pop("kind") or ""
    return evaluation_view(evals.save_evaluation(student, kind, body, me())), 201


@blp.route("/<state_id>/evaluations/<int:evaluation_id>", methods=["PUT"])
@login_required
@blp.arguments(SerEvaluationIn)
def put_evaluation(body, state_id: str, evaluation_id: int):
    """Modify an evaluation (e.g. the initial evaluation's remaining information once its first
    step is saved, or a triennial waiver's parent signature date)."""
    student = load(state_id, WRITE, me())
    found = evals.get_evaluation(student, evaluation_id)
    kind = body.pop("kind") or found.kind
    return evaluation_view(evals.save_evaluation(student, kind, body, me(), found))


@blp.route("/<state_id>/evaluations/<int:evaluation_id>/exceptionalities", methods=["POST"])
@login_required
@blp.arguments(SerExceptionalityIn)
def post_exceptionality(body, state_id: str, evaluation_id: int):
    student = load(state_id, WRITE, me())
    found = evals.get_evaluation(student, evaluation_id)
    add_exceptionality(student, found, body["code"], body["detail"], body["primary"], me())
    return evaluation_view(found), 201


@blp.route("/<state_id>/evaluations/<int:evaluation_id>/exceptionalities/<int:exceptionality_id>",
           methods=["DELETE"])
@login_required
def delete_exceptionality(state_id: str, evaluation_id: int, exceptionality_id: int):
    student = load(state_id, WRITE, me())
    found = evals.get_evaluation(student, evaluation_id)
    remove_exceptionality(student, found, exceptionality_id, me())
    return evaluation_view(found)


@blp.route("/<state_id>/close-jurisdiction", methods=["POST"])
@login_required
@blp.arguments(CloseJurisdictionIn)
def close_jurisdiction(body, state_id: str):
    """Close Jurisdiction: the parent declined the initial evaluation on ``declined_on``."""
    student = load(state_id, WRITE, me())
    found = evals.get_evaluation(student, body["evaluation_id"]) if body["evaluation_id"] else None
    evals.close_jurisdiction(student, found, body["declined_on"], me())
    return {"state_id": student.state_id, "jurisdiction_open": student.jurisdiction_open}

