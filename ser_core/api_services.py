"""Services, the provider bulk update and post-school transition under /api/v1/ser."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink.api import login_required, me
from ser_core import bulk, pst
from ser_core import services as svc
from ser_core.access import READ, WRITE, load
from ser_core.activity import activities
from ser_core.presenters import _iso

blp = Blueprint("ser_service_api", __name__, url_prefix="/api/v1/ser",
                description="SER: services, provider bulk update, post-school transition")


class SerServiceIn(Schema):
    service_type = fields.String(load_default=None)
    recipient = fields.String(load_default="Student")
    provider_staff_id = fields.String(load_default=None, metadata={"description": "10-digit staff ID, never an SSN"})
    teacher_staff_id = fields.String(load_default=None)
    location = fields.String(load_default="")
    minutes_per_week = fields.Integer(load_default=None, allow_none=True)
    begin_date = fields.Date(load_default=None)


class SerTerminateIn(Schema):
    end_date = fields.Date(load_default=None)
    termination_reason = fields.String(load_default=None)


class SerProviderChangeIn(Schema):
    new_provider_staff_id = fields.String(load_default=None)
    end_date = fields.Date(load_default=None, metadata={"description": "the last day with the old provider"})


class SerBulkIn(Schema):
    old_provider_staff_id = fields.String(required=True)
    new_provider_staff_id = fields.String(required=True)
    service_ids = fields.List(fields.Integer(), load_default=None,
                              metadata={"description": "the services chosen; omit for Select All"})
    end_date = fields.Date(load_default=None)


def service_view(s) -> dict:
    iso = _iso
    return {"id": s.id, "lea": s.lea.code, "service_type": s.service_type, "recipient": s.recipient,
            "provider_staff_id": s.provider_staff_id, "provider_name": s.provider_name,
            "teacher_staff_id": s.teacher_staff_id, "teacher_of_record": s.teacher_of_record, "location": s.location,
            "minutes_per_week": s.minutes_per_week, "begin_date": iso(s.begin_date), "end_date": iso(s.end_date),
            "termination_reason": s.termination_reason, "replaces": s.replaces_id}


def survey_view(s) -> dict:
    return {"id": s.id, "kind": s.kind, "kind_name": pst.KINDS[s.kind], "survey_date": s.survey_date.isoformat(),
            "unable_to_contact": s.unable_to_contact, "answers": s.answers, "work_type": s.work_type}


@blp.route("/students/<state_id>/services", methods=["GET"])
@login_required
def list_services(state_id: str):
    """The student's services, the most recent first."""
    student = load(state_id, READ, me(), viewed="services")
    return {"state_id": student.state_id, "services": [service_view(s) for s in svc.services(student)]}


@blp.route("/students/<state_id>/services", methods=["POST"])
@login_required
@blp.arguments(SerServiceIn)
def post_service(body, state_id: str):
    """Add New service (recipient defaults to Student; provider and teacher by staff ID)."""
    student = load(state_id, WRITE, me())
    return service_view(svc.add_service(student, body, me())), 201


@blp.route("/students/<state_id>/services/<int:service_id>/terminate", methods=["POST"])
@login_required
@blp.arguments(SerTerminateIn)
def post_terminate(body, state_id: str, service_id: int):
    """Service Terminated: end date and one of the seven termination reasons."""
    student = load(state_id, WRITE, me())
    return service_view(svc.terminate(svc.get_service(student, service_id), body["end_date"],
                                      body["termination_reason"], me()))


@blp.route("/students/<state_id>/services/<int:service_id>/provider-change", methods=["POST"])
@login_required
@blp.arguments(SerProviderChangeIn)
def post_provider_change(body, state_id: str, service_id: int):
    """Terminate with Service Provider Change and add the service with the new provider."""
    student = load(state_id, WRITE, me())
    added = svc.change_provider(svc.get_service(student, service_id), body["new_provider_staff_id"],
                                body["end_date"], me())
    return service_view(added), 201


@blp.route("/tools/provider-bulk-update", methods=["GET"])
@login_required
def get_caseload():
    """Get Student List: the old provider's (``?old_provider_staff_id=``) open services you may change."""
    rows = bulk.caseload(request.args.get("old_provider_staff_id", ""), me())
    return {"services": [{**service_view(s), "state_id": s.student.state_id,
                          "student_name": f"{s.student.first_name} {s.student.last_name}"} for s in rows]}


@blp.route("/tools/provider-bulk-update", methods=["POST"])
@login_required
@blp.arguments(SerBulkIn)
def post_bulk(body):
    """Reassign the chosen (or all) services; per student: updated, or the validation error."""
    outcomes = bulk.apply(body["old_provider_staff_id"], body["new_provider_staff_id"], body["service_ids"],
                          body["end_date"], me())
    return {"updated": sum(o.ok for o in outcomes), "failed": sum(not o.ok for o in outcomes),
            "results": [o.__dict__ for o in outcomes]}


@blp.route("/students/<state_id>/pst", methods=["GET"])
@login_required
def get_pst(state_id: str):
    """Post-School Transition: each exit's surveys and what is still owed."""
    from edlink import clock
    student = load(state_id, READ, me(), viewed="pst")
    return {"state_id": student.state_id, "exits": [
        {"activity_id": a.id, "exit_date": a.exit_date.isoformat(), "exit_reason": a.exit_reason,
         "surveys": [survey_view(s) for s in a.surveys], "owed": pst.owed(a, clock.today())}
        for a in activities(student) if a.exit_date is not None]}


@blp.route("/students/<state_id>/pst/<kind>", methods=["POST"])
@login_required
def post_pst(state_id: str, kind: str):
    """Record the ``initial_exit`` or ``one_year`` survey: ``survey_date`` and the answers, or
    ``unable_to_contact: true``."""
    from edlink.errors import Invalid
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("invalid_body", "Send the survey as a JSON object.")
    student = load(state_id, WRITE, me())
    return survey_view(pst.record(student, kind, body, me())), 201


@blp.route("/sis-exits", methods=["POST"])
@login_required
def post_sis_exits():
    """Load SIS exit records (CSV body ``state_id,lea_code,exit_code,exit_date``), all or nothing;
    rows only for LEAs where you hold eser.student.write."""
    from ser_core.reports.crosscheck import import_sis_exits, require_import
    require_import(me())
    return import_sis_exits(request.get_data(), user=me()).as_dict()


@blp.route("/reports/<code>", methods=["GET"])
@login_required
def get_report(code: str):
    """Run a SER report (``ser-...``; the same as /api/v1/reports/{code}): ``format`` json, csv or
    xlsx; Excel and ``background=1`` runs go to My Reports."""
    from audit.reports.api import answer
    from audit.reports.run import start
    from edlink.errors import NotFound
    if not code.startswith("ser-"):
        raise NotFound("unknown_report", f"There is no SER report called {code!r}.")
    background = request.args.get("background", "").strip().lower() in ("1", "true", "yes")
    return answer(start(me(), code, request.args, request.args.get("format"), background=background))
