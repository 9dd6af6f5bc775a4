"""Parent/Guardian, View Attachments and Modify State ID/PII data pages."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import login_required

from edlink.errors import DomainError
from ser_core import attachments as files
from ser_core import guardians as people
from ser_core import registry, students
from ser_core.access import READ, SECURE_ID, WRITE, load
from ser_core.presenters import guardian_view
from ser_core.views import bp, failed, me, student_page


def _guardian_page(student, status=200, error=None, values=None, editing=None):
    if values is not None:
        shown = {name: values.get(name, "") for name in people.FIELDS}
    else:
        view = guardian_view(editing) if editing else {}
        shown = {name: view.get(name, "") for name in people.FIELDS}
    return student_page("ser/guardians.html", student, "ser.guardians", status, guardians=people.guardians(student),
                        choice_options={k: [(c, c) for c in v] for k, v in people.CHOICES.items()}, fv=shown,
                        editing=editing, error=error, errors=error.fields if error else {})


@bp.route("/students/<state_id>/guardians", methods=["GET", "POST"])
@login_required
def guardians(state_id: str):
    """Parent/Guardian: the list, the Add New form, and (``?edit=ID``) one to edit."""
    if request.method == "GET":
        student = load(state_id, READ, me(), viewed="guardians")
        editing = request.args.get("edit", type=int)
        return _guardian_page(student, editing=people.get_guardian(student, editing) if editing else None)
    student = load(state_id, WRITE, me())
    guardian_id = request.form.get("guardian_id", type=int)
    try:
        guardian = people.get_guardian(student, guardian_id) if guardian_id else None
        if request.form.get("action") == "delete" and guardian is not None:
            people.delete_guardian(student, guardian, me())
            flash("The parent/guardian record is deleted.", "success")
        else:
            people.save_guardian(student, request.form, me(), guardian)
            flash("The parent/guardian information is saved.", "success")
    except DomainError as exc:
        error = failed(exc)
        student = load(state_id, READ, me())
        editing = people.get_guardian(student, guardian_id) if guardian_id else None
        return _guardian_page(student, exc.status, error=error, values=request.form, editing=editing)
    return redirect(url_for("ser.guardians", state_id=student.state_id))


def _attachment_page(student, status=200, error=None, editing=None):
    return student_page("ser/attachments.html", student, "ser.attachments", status, rows=files.attachments(student),
                        error=error, errors=error.fields if error else {}, editing=editing,
                        values=request.form if error else None)


@bp.route("/students/<state_id>/attachments", methods=["GET", "POST"])
@login_required
def attachments(state_id: str):
    """View Attachments: the list; Add New (file and description); edit a description; delete."""
    if request.method == "GET":
        student = load(state_id, READ, me(), viewed="attachments")
        editing = request.args.get("edit", type=int)
        return _attachment_page(student, editing=files.get_attachment(student, editing) if editing else None)
    student = load(state_id, WRITE, me())
    action, attachment_id = request.form.get("action", "add"), request.form.get("attachment_id", type=int)
    try:
        if action == "add":
            upload = request.files.get("file")
            data = upload.read() if upload and upload.filename else None
            files.add_attachment(student, upload.filename if upload else None, data,
                                 request.form.get("description"), me())
            flash("The attachment is saved.", "success")
        else:
            found = files.get_attachment(student, attachment_id or 0)
            if action == "delete":
                files.delete_attachment(student, found, me())
                flash(f"The attachment {found.filename} is deleted.", "success")
            else:
                files.edit_attachment(student, found, request.form.get("description"), me())
                flash("The attachment's description is saved.", "success")
    except DomainError as exc:
        error = failed(exc)
        student = load(state_id, READ, me())
        editing = files.get_attachment(student, attachment_id) if action == "edit" and attachment_id else None
        return _attachment_page(student, exc.status, error, editing)
    return redirect(url_for("ser.attachments", state_id=student.state_id))


@bp.route("/students/<state_id>/attachments/<int:attachment_id>")
@login_required
def attachment_file(state_id: str, attachment_id: int):
    """View one attachment (downloaded as it was uploaded; each view is audited)."""
    student = load(state_id, READ, me())
    found = files.get_attachment(student, attachment_id)
    return files.download(student, found, me())


@bp.route("/students/<state_id>/secure-id", methods=["GET", "POST"])
@login_required
def secure_id(state_id: str):
    """Modify State ID/PII data: Search eScholar By State ID → Find → compare → Save eScholar PII to SER."""
    student = load(state_id, SECURE_ID, me(), viewed="secure_id" if request.method == "GET" else None)
    wanted = (request.values.get("lookup") or "").strip()
    error, compared, status = None, None, 200
    try:
        if request.method == "POST":
            students.save_registry_pii(student, registry.check_state_id(wanted), me())
            flash(f"The eScholar PII for State ID {student.state_id} is saved to SER.", "success")
            return redirect(url_for("ser.profile", state_id=student.state_id))
        if wanted:
            compared = students.compare_pii(student, registry.check_state_id(wanted, "lookup"))
    except DomainError as exc:
        error, status = failed(exc), exc.status
        student = load(state_id, SECURE_ID, me())
    return student_page("ser/secure_id.html", student, "ser.secure_id", status, compared=compared, lookup=wanted,
                        error=error, errors=error.fields if error else {})
