"""SER students under /api/v1/ser: search, add from the registry, profile, jurisdiction, Secure ID."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink.api import login_required, me, paging
from ser_core import jurisdiction, registry, students
from ser_core.access import READ, SECURE_ID, WRITE, get_student_record, load
from ser_core.lookup import look_up
from ser_core.presenters import jurisdiction_view, row_view
from ser_core.profile import profile_view
from ser_core.search import Criteria, search

blp = Blueprint("ser_api", __name__, url_prefix="/api/v1/ser", description="SER: special-education students")


class SerProfileIn(Schema):
    class Meta:
        unknown = "include"  # demographic fields are refused by the service with its own message
    primary_language = fields.String()
    address = fields.String()
    city = fields.String()
    zip_code = fields.String()
    phone = fields.String()


class SerNewStudentIn(SerProfileIn):
    class Meta:
        unknown = "raise"
    state_id = fields.String(required=True, metadata={"description": "the student's State ID (10 digits)"})
    lea_code = fields.String(load_default=None, metadata={"description": "only for writers at several LEAs"})


class SerClaimIn(Schema):
    school_code = fields.String(load_default=None)
    begin_date = fields.Date(load_default=None)
    local_id = fields.String(load_default=None)


class SerSecureIdIn(Schema):
    state_id = fields.String(required=True, metadata={"description": "the State ID found in the registry"})


@blp.route("/students", methods=["GET"])
@login_required
def list_students():
    """Search within the caller's jurisdiction scope: ``q`` (quick: "first last", "last, first" or
    a State ID), ``first_name``, ``last_name``, ``state_id``, ``dob``, ``gender`` (M/F), ``school``
    (site code), ``inactive`` (true: include records five years old or more); ``page``, ``per_page``."""
    page, per_page = paging()
    rows, total = search(me(), Criteria.parse(request.args), page, per_page)
    return {"total": total, "page": page, "per_page": per_page,
            "students": [row_view(student, open_services) for student, open_services in rows]}


@blp.route("/students", methods=["POST"])
@login_required
@blp.arguments(SerNewStudentIn)
def add_student(body):
    """Add a student from the state registry (the writer's LEA); 409 when already in SER."""
    state_id, lea_code = body.pop("state_id"), body.pop("lea_code")
    student = students.add_student(state_id, me(), lea_code, body)
    return profile_view(student), 201


@blp.route("/registry/<state_id>", methods=["GET"])
@login_required
def get_registry(state_id: str):
    """Find a student in the state registry by State ID (Add New Student, for Data Writers): the
    registry's data and, when the student is already in SER, which LEA has it and whether that
    LEA has open services."""
    return look_up(state_id, me())


@blp.route("/students/<state_id>", methods=["GET"])
@login_required
def get_student(state_id: str):
    """The student profile (403 outside the caller's scope; every read is audited)."""
    return profile_view(load(state_id, READ, me(), viewed="profile"))


@blp.route("/students/<state_id>", methods=["PATCH"])
@login_required
@blp.arguments(SerProfileIn)
def patch_student(body, state_id: str):
    """Change the editable profile fields (demographics are read-only: 422)."""
    student = load(state_id, WRITE, me())
    students.update_profile(student, body, me())
    return profile_view(student)


@blp.route("/students/<state_id>/jurisdiction", methods=["GET"])
@login_required
def get_jurisdiction(state_id: str):
    """The student's jurisdiction records, most recent first."""
    student = load(state_id, READ, me(), viewed="jurisdiction")
    return {"state_id": student.state_id,
            "jurisdiction": [jurisdiction_view(j) for j in jurisdiction.history(student)]}


@blp.route("/students/<state_id>/jurisdiction", methods=["POST"])
@login_required
@blp.arguments(SerClaimIn)
def post_jurisdiction(body, state_id: str):
    """Claim jurisdiction at ``school_code`` from ``begin_date`` (the previous LEA's ends the day
    before; 409 ``open_services`` while it has open services), or transfer the student to
    another site of the same LEA. ``local_id`` is optional and never an SSN."""
    record = jurisdiction.claim(get_student_record(state_id), body["school_code"], body["begin_date"],
                                body["local_id"], me())
    return jurisdiction_view(record), 201


@blp.route("/students/<state_id>/secure-id", methods=["GET"])
@login_required
def compare_secure_id(state_id: str):
    """Modify State ID/PII data: SER's PII beside the registry's for ``?state_id=`` (default: the
    student's own), for Secure ID Managers."""
    student = load(state_id, SECURE_ID, me(), viewed="secure_id")
    ser, found, _ = students.compare_pii(student, request.args.get("state_id") or student.state_id)
    return {"ser": ser, "registry": found, "differences": sorted(k for k in ser if ser[k] != found[k])}


@blp.route("/students/<state_id>/secure-id", methods=["POST"])
@login_required
@blp.arguments(SerSecureIdIn)
def save_secure_id(body, state_id: str):
    """Save eScholar PII to SER: the student's Secure ID becomes ``state_id`` and its PII the
    registry's (audited with before and after)."""
    student = load(state_id, SECURE_ID, me())
    students.save_registry_pii(student, registry.check_state_id(body["state_id"]), me())
    return profile_view(student)

