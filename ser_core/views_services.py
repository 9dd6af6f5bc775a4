"""Services (list, Add New, View/Edit with Service Terminated and provider change), Sped
Activity (with the exit), Post-School Transition, and Tools → Service Provider Bulk Update."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from edlink import clock
from edlink.errors import DomainError
from roles import gate
from ser_core import bulk, exits, pst
from ser_core import services as svc
from ser_core.access import READ, WRITE, load
from ser_core.activity import activities, close_activity, open_activity
from ser_core.views import bp, failed, me, student_page


def _services_page(student, status=200, error=None, editing=None):
    return student_page("ser/services.html", student, "ser.services", status, rows=svc.services(student),
                        editing=editing, types=svc.SERVICE_TYPES, recipients=svc.RECIPIENTS,
                        reasons=exits.TERMINATION_REASONS, error=error, errors=error.fields if error else {},
                        fv=request.form if error else {})


@bp.route("/students/<state_id>/services", methods=["GET", "POST"])
@login_required
def services(state_id: str):
    if request.method == "GET":
        student = load(state_id, READ, me(), viewed="services")
        edit = request.args.get("edit", type=int)
        return _services_page(student, editing=svc.get_service(student, edit) if edit else None)
    student = load(state_id, WRITE, me())
    form, action = request.form, request.form.get("action", "add")
    service_id = form.get("service_id", type=int)
    try:
        if action == "terminate":
            svc.terminate(svc.get_service(student, service_id or 0), form.get("end_date"),
                          form.get("termination_reason"), me())
            flash("The service is terminated.", "success")
        elif action == "provider_change":
            svc.change_provider(svc.get_service(student, service_id or 0), form.get("new_provider_staff_id"),
                                form.get("end_date"), me())
            flash("The service is terminated (Service Provider Change) and added with the new provider.", "success")
        else:
            svc.add_service(student, form, me())
            flash("The service is saved.", "success")
    except DomainError as exc:
        error = failed(exc)
        student = load(state_id, READ, me())
        editing = svc.get_service(student, service_id) if service_id else None
        return _services_page(student, exc.status, error, editing)
    return redirect(url_for("ser.services", state_id=student.state_id))


def _activity_page(student, status=200, error=None):
    return student_page("ser/activity.html", student, "ser.activity", status, rows=activities(student),
                        open_=open_activity(student), reasons=exits.EXIT_REASONS, terminal=exits.TERMINAL,
                        error=error, errors=error.fields if error else {}, fv=request.form if error else {})


@bp.route("/students/<state_id>/activity", methods=["GET", "POST"])
@login_required
def activity(state_id: str):
    """Sped Activity: when the student entered and whether the student exited special education."""
    if request.method == "GET":
        return _activity_page(load(state_id, READ, me(), viewed="activity"))
    student = load(state_id, WRITE, me())
    try:
        close_activity(student, request.form.get("exit_date"), request.form.get("exit_reason"), me())
    except DomainError as exc:
        error = failed(exc)
        return _activity_page(load(state_id, READ, me()), exc.status, error)
    flash("The special education activity is closed.", "success")
    return redirect(url_for("ser.activity", state_id=student.state_id))


def _pst_page(student, status=200, error=None):
    closed = [a for a in activities(student) if a.exit_date is not None]
    return student_page("ser/pst.html", student, "ser.pst_page", status, exits_=closed, owed=pst.owed,
                        today=clock.today(), kinds=pst.KINDS, plans=pst.PLANS, questions=pst.QUESTIONS,
                        required=exits.PST_REQUIRED, error=error, errors=error.fields if error else {},
                        fv=request.form if error else {})


@bp.route("/students/<state_id>/pst", methods=["GET", "POST"])
@login_required
def pst_page(state_id: str):
    if request.method == "GET":
        return _pst_page(load(state_id, READ, me(), viewed="pst"))
    student = load(state_id, WRITE, me())
    try:
        pst.record(student, request.form.get("kind", ""), request.form, me())
    except DomainError as exc:
        error = failed(exc)
        return _pst_page(load(state_id, READ, me()), exc.status, error)
    flash("The Post-School Transition survey is saved.", "success")
    return redirect(url_for("ser.pst_page", state_id=student.state_id))


@bp.route("/tools/provider-bulk-update", methods=["GET", "POST"])
@login_required
def bulk_update():
    """Tools → Service Provider Bulk Update: Get Student List, pick some or Select All, apply."""
    gate.require(WRITE, None)
    args = request.form if request.method == "POST" else request.args
    old, new = (args.get("old_provider_staff_id") or "").strip(), (args.get("new_provider_staff_id") or "").strip()
    rows, outcomes, error, status = [], None, None, 200
    try:
        if old:
            rows = bulk.caseload(old, me())
        if request.method == "POST":
            chosen = None if args.get("select_all") else [int(x) for x in args.getlist("service_ids") if x.isdigit()]
            outcomes = bulk.apply(old, new, chosen, args.get("end_date"), me())
            rows = bulk.caseload(old, me())
    except DomainError as exc:
        error, status = failed(exc), exc.status
    return render_template("ser/bulk_update.html", old=old, new=new, rows=rows, outcomes=outcomes, error=error,
                           errors=error.fields if error else {}, end_date=args.get("end_date", ""),
                           updated=sum(o.ok for o in outcomes or [])), status
