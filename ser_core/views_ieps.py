"""IEP pages: IEP Forms (the list with Submitted to SER Y/N, and Add New), one IEP (its forms,
Add/Delete Forms to IEP, Amend, Submit to SER) and the IEP Validation page."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import login_required

from edlink.errors import DomainError
from roles import gate
from ser_core.access import READ, load, org_of
from ser_core.ieps import service as ieps
from ser_core.ieps.catalogue import BY_CODE, CODES, IEP_TYPES, OPTIONAL, STATUSES
from ser_core.views import bp, failed, me, student_page


def _may(student) -> dict:
    org = org_of(student)
    return {"may_edit": bool(gate.can(ieps.IEP_EDIT, org)), "may_submit": bool(gate.can(ieps.IEP_SUBMIT, org))}


def _list(student, status=200, error=None):
    return student_page("ser/ieps.html", student, "ser.ieps", status, rows=ieps.ieps(student), types=IEP_TYPES,
                        statuses=STATUSES, error=error, errors=error.fields if error else {},
                        fv=request.form if error else {}, **_may(student))


@bp.route("/students/<state_id>/ieps", methods=["GET", "POST"])
@login_required
def ieps_list(state_id: str):
    """IEP Forms: the student's IEPs and the Add New tab."""
    if request.method == "GET":
        return _list(load(state_id, READ, me(), viewed="ieps"))
    student = load(state_id, READ, me())
    try:
        iep = ieps.create_iep(student, request.form.get("iep_type", ""), request.form.get("team_meeting_date"), me())
    except DomainError as exc:
        error = failed(exc)
        return _list(load(state_id, READ, me()), exc.status, error)
    flash("The draft IEP is created with the required forms.", "success")
    return redirect(url_for("ser.iep", iep_id=iep.id))


def _iep_page(iep, status=200, error=None, form_code=None, result=None, template="ser/iep.html"):
    student = iep.student
    code = form_code or request.args.get("form") or "general"
    if code not in {f.code for f in iep.forms}:
        code = "general"
    values = request.form if error and request.form.get("action") == "save_form" else None
    return student_page(template, student, "ser.ieps", status, iep=iep, form=BY_CODE[code], form_code=code,
                        data=(iep.forms and next(f for f in iep.forms if f.code == code).data) or {},
                        values=values, types=IEP_TYPES, statuses=STATUSES, by_code=BY_CODE, optional=OPTIONAL,
                        manage=request.args.get("manage") == "1", result=result, codes=CODES,
                        editable=iep.status in ieps.EDITABLE, error=error, errors=error.fields if error else {},
                        **_may(student))


def _iep(iep_id: int):
    iep = ieps.get_iep(iep_id)
    gate.require(READ, org_of(iep.student))
    return iep


@bp.route("/ieps/<int:iep_id>", methods=["GET", "POST"])
@login_required
def iep(iep_id: int):
    """One IEP: its forms; POST ``action`` save_form, set_forms, official, submit, amend, delete."""
    found = _iep(iep_id)
    if request.method == "GET":
        return _iep_page(found)
    form, action = request.form, request.form.get("action", "")
    code = form.get("form_code") or "general"
    try:
        if action == "save_form":
            fields = BY_CODE[code].fields if code in BY_CODE else ()
            ieps.save_form(found, code, {f.name: form.get(f.name, "") for f in fields if f.name in form}, me())
            flash(f"{BY_CODE[code].title} is saved.", "success")
        elif action == "set_forms":
            ieps.set_forms(found, form.getlist("forms"), me())
            flash("The IEP's forms are updated.", "success")
        elif action == "official":
            ieps.make_official(found, me())
            flash("The IEP is official.", "success")
        elif action == "submit":
            ieps.submit(found, me())
            flash("The IEP is submitted to SER.", "success")
        elif action == "amend":
            ieps.amend(found, me())
            flash("The IEP is now an Amended-Draft: document the change on the Amendments form.", "success")
            return redirect(url_for("ser.iep", iep_id=found.id, form="amendments"))
        elif action == "delete":
            state_id = found.student.state_id
            ieps.delete_draft(found, me())
            flash("The draft IEP is deleted.", "success")
            return redirect(url_for("ser.ieps_list", state_id=state_id))
        else:
            return redirect(url_for("ser.iep", iep_id=found.id))
    except DomainError as exc:
        error = failed(exc)
        return _iep_page(_iep(iep_id), exc.status, error, form_code=code)
    return redirect(url_for("ser.iep", iep_id=found.id, form=code if action == "save_form" else None))


@bp.route("/ieps/<int:iep_id>/validation", methods=["POST"])
@login_required
def iep_validation(iep_id: int):
    """The IEP Validation page: green check, red X or yellow ! per form, with codes and solutions."""
    found = _iep(iep_id)
    try:
        result = ieps.run_validation(found, me())
    except DomainError as exc:
        error = failed(exc)
        return _iep_page(_iep(iep_id), exc.status, error)
    return _iep_page(found, result=result, template="ser/iep_validation.html")
