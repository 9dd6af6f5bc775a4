"""SER pages: student search, Add New Student, the Student Profile with its option links."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from edlink.errors import DomainError, settle
from roles import gate
from ser_core import registry, students
from ser_core.access import READ, SECURE_ID, WRITE, is_inactive, load, org_of
from ser_core.guardians import has_guardian
from ser_core.lookup import look_up
from ser_core.search import Criteria
from ser_core.search import search as run_search
from ser_core.students import PROFILE_FIELDS

bp = Blueprint("ser", __name__, url_prefix="/ser", template_folder="templates")

# Student Options, in the order of the SER screens: (endpoint, label, needs guardian info first)
OPTIONS = [("ser.profile", "Student Profile", False), ("ser.jurisdiction_tab", "Jurisdiction", False),
           ("ser.guardians", "Parent/Guardian", False), ("ser.attachments", "View Attachments", True),
           ("ser.evaluations", "Evaluations", True), ("ser.ieps_list", "IEP Forms", True),
           ("ser.services", "Services", True), ("ser.activity", "Sped Activity", True),
           ("ser.pst_page", "Post-School Transition", True)]


def me():
    return current_user._get_current_object()


def failed(exc: DomainError) -> DomainError:
    """A refused form: end the transaction (keeping a denial's own event) and show the message."""
    settle(exc)
    return exc


def student_page(template: str, student, section: str, status: int = 200, **context):
    """A page of one student, with the Student Options links it may open."""
    saved = has_guardian(student)
    options = [(endpoint, label, saved or not needs) for endpoint, label, needs in OPTIONS]
    if gate.can(SECURE_ID, org_of(student)):
        options.append(("ser.secure_id", "Modify State ID/PII data", True))
    may_write = bool(gate.can(WRITE, org_of(student)))
    return render_template(template, student=student, section=section, options=options, guardian_saved=saved,
                           inactive=is_inactive(student), may_write=may_write, **context), status


@bp.route("/students")
@login_required
def search():
    """Quick, regular and advanced search (``mode=advanced`` shows date of birth, gender, school
    code and Show Inactive)."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = int(current_app.config["PAGE_SIZE"])
    advanced = request.args.get("mode") == "advanced"
    error, rows, total = None, [], 0
    criteria = Criteria()
    try:
        criteria = Criteria.parse(request.args)
        advanced = advanced or criteria.advanced
        rows, total = run_search(me(), criteria, page, per_page)
    except DomainError as exc:
        if exc.status == 403:
            raise
        error = failed(exc)
    return render_template("ser/search.html", rows=rows, total=total, page=page, criteria=criteria,
                           pages=max((total + per_page - 1) // per_page, 1), advanced=advanced, error=error,
                           errors=error.fields if error else {}, may_add=bool(gate.orgs_with(WRITE)),
                           is_inactive=is_inactive), \
        (error.status if error else 200)


@bp.route("/students/new", methods=["GET", "POST"])
@login_required
def new_student():
    """Add New Student: Find Student (State ID) → Confirm → the profile's fields → Save."""
    gate.require(WRITE, None)
    step, found, error, status = "find", None, None, 200
    form = request.form
    state_id = (form.get("state_id") or request.args.get("state_id") or "").strip()
    if request.method == "POST":
        action = form.get("action", "find")
        try:
            registry.check_state_id(state_id)
            found = look_up(state_id, me())
            if action == "save":
                values = {name: form.get(name, "") for name in PROFILE_FIELDS}
                student = students.add_student(state_id, me(), form.get("lea_code") or None, values)
                flash("The student is saved. Enter a new jurisdiction record, then the parent/guardian "
                      "information.", "success")
                return redirect(url_for("ser.claim", state_id=student.state_id))
            step = "profile" if action == "confirm" and found["in_ser"] is None else "confirm"
        except DomainError as exc:
            error, status = failed(exc), exc.status
            if action == "save" and exc.code != "already_in_ser":
                step, found = "profile", look_up(state_id, me())
    entry = registry.find(state_id) if found else None
    return render_template("ser/new_student.html", step=step, found=found, entry=entry, state_id=state_id, error=error,
                           errors=error.fields if error else {}, values=form, fields=PROFILE_FIELDS), status


@bp.route("/students/<state_id>", methods=["GET", "POST"])
@login_required
def profile(state_id: str):
    """The Student Profile: demographics (read-only, from the registry) and the editable fields."""
    if request.method == "GET":
        return student_page("ser/profile.html", load(state_id, READ, me(), viewed="profile"), "ser.profile",
                            fields=PROFILE_FIELDS, values=None, error=None, errors={})
    student = load(state_id, WRITE, me())
    values = {name: request.form.get(name, "") for name in PROFILE_FIELDS}
    try:
        changed = students.update_profile(student, values, me())
    except DomainError as exc:
        error = failed(exc)
        student = load(state_id, READ, me())
        return student_page("ser/profile.html", student, "ser.profile", exc.status, fields=PROFILE_FIELDS,
                            values=values, error=error, errors=error.fields)
    flash("The student profile is saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("ser.profile", state_id=student.state_id))


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    from ser_core import (  # noqa: F401  (the modules that add their routes to bp)
        views_evaluations,
        views_ieps,
        views_jurisdiction,
        views_records,
        views_reports,
        views_services,
    )
    app.register_blueprint(bp)
    add_nav(app, "ser.search", "SER", lambda: bool(gate.orgs_with(READ)), order=30)
    add_nav(app, "ser.bulk_update", "Tools", lambda: bool(gate.orgs_with(WRITE)), order=31)
    add_nav(app, "ser.reports", "Sped Reports", lambda: bool(gate.orgs_with("eser.report.run")), order=32)
