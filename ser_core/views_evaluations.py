"""The Evaluations page: the history (most recent first) and the tabs Initial, Re-Evaluation,
Triennial Waiver and — once an initial evaluation is entered — Close Jurisdiction."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import login_required

from edlink.errors import DomainError
from ser_core import evaluations as evals
from ser_core.access import READ, WRITE, load
from ser_core.exceptionalities import add_exceptionality, remove_exceptionality
from ser_core.presenters import evaluation_view
from ser_core.views import bp, failed, me, student_page

TABS = [("history", "Evaluations"), ("initial", "Initial"), ("reevaluation", "Re-Evaluation"),
        ("triennial_waiver", "Triennial Waiver"), ("close", "Close Jurisdiction")]
FORM_FIELDS = ("permission_request_date", "parent_decision", "decision_date", "completion_date", "eligibility_date",
               "reevaluation_reason", "parent_signature_date", "coordinator_staff_id")


def _page(student, tab: str, status: int = 200, error=None, editing=None):
    rows = evals.evaluations(student)
    initials = [e for e in rows if e.kind == "initial"]
    tabs = [(key, label) for key, label in TABS if key != "close" or initials]
    return student_page("ser/evaluations.html", student, "ser.evaluations", status, rows=rows, tab=tab, tabs=tabs,
                        editing=editing, declined=[e for e in initials if e.parent_decision == "declined"],
                        error=error, errors=error.fields if error else {},
                        fv=request.form if error else (evaluation_view(editing) if editing else {}), kinds=evals.KINDS,
                        decisions=evals.PARENT_DECISIONS, reasons=evals.REEVALUATION_REASONS,
                        exceptionalities=evals.EXCEPTIONALITIES)


@bp.route("/students/<state_id>/evaluations", methods=["GET", "POST"])
@login_required
def evaluations(state_id: str):
    if request.method == "GET":
        student = load(state_id, READ, me(), viewed="evaluations")
        editing_id = request.args.get("edit", type=int)
        editing = evals.get_evaluation(student, editing_id) if editing_id else None
        tab = editing.kind if editing else request.args.get("tab", "history")
        return _page(student, tab if tab in dict(TABS) else "history", editing=editing)
    student = load(state_id, WRITE, me())
    form = request.form
    action, kind = form.get("action", "save"), form.get("kind", "")
    evaluation_id = form.get("evaluation_id", type=int)
    try:
        found = evals.get_evaluation(student, evaluation_id) if evaluation_id else None
        if action == "add_exceptionality":
            add_exceptionality(student, found, form.get("code"), form.get("detail"), form.get("primary") == "on", me())
            flash("The exceptionality is saved.", "success")
        elif action == "remove_exceptionality":
            remove_exceptionality(student, found, form.get("exceptionality_id", type=int) or 0, me())
            flash("The exceptionality is removed.", "success")
        elif action == "close":
            evals.close_jurisdiction(student, found, form.get("declined_on"), me())
            flash("Jurisdiction is closed: the parent declined the initial evaluation.", "success")
            return redirect(url_for("ser.jurisdiction_tab", state_id=student.state_id))
        else:
            values = {name: form.get(name, "") for name in FORM_FIELDS if name in form}
            found = evals.save_evaluation(student, kind, values, me(), found)
            flash(f"The {evals.KINDS[found.kind].lower()} evaluation is saved.", "success")
    except DomainError as exc:
        error = failed(exc)
        student = load(state_id, READ, me())
        editing = evals.get_evaluation(student, evaluation_id) if evaluation_id else None
        tab = "close" if action == "close" else (editing.kind if editing else kind)
        return _page(student, tab if tab in dict(TABS) else "history", exc.status, error, editing)
    return redirect(url_for("ser.evaluations", state_id=student.state_id, edit=found.id))
