"""The Jurisdiction tab (history) and its Add New tab: claim jurisdiction, or transfer the
student to another site of the LEA. The LEA is the writer's own and cannot be changed."""
from __future__ import annotations

import datetime as _dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from edlink.errors import DomainError, Invalid
from edlink.extensions import db
from edlink.models import SITE_KINDS, Org
from roles import gate
from ser_core import jurisdiction
from ser_core.access import READ, WRITE, get_student_record, load, org_of
from ser_core.lookup import look_up
from ser_core.views import bp, failed, me, student_page


@bp.route("/students/<state_id>/jurisdiction")
@login_required
def jurisdiction_tab(state_id: str):
    student = load(state_id, READ, me(), viewed="jurisdiction")
    return student_page("ser/jurisdiction.html", student, "ser.jurisdiction_tab", history=jurisdiction.history(student))


def _writable_sites() -> list[Org]:
    ids = sorted(gate.orgs_with(WRITE))
    return list(db.session.execute(db.select(Org).where(Org.id.in_(ids), Org.kind.in_(SITE_KINDS))
                                   .order_by(Org.code)).scalars())


def _date(text: str | None, field: str, label: str) -> _dt.date | None:
    if not text:
        return None
    try:
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        message = f"{label} must be a date."
        raise Invalid("invalid_date", message, fields={field: [message]}) from None


@bp.route("/students/<state_id>/jurisdiction/new", methods=["GET", "POST"])
@login_required
def claim(state_id: str):
    """Add New: Begin Date, School Code, Local Student ID (optional, never an SSN). A writer may
    open this for a student another LEA has: the claim is what the gate checks, at the school."""
    gate.require(WRITE, None)
    student = get_student_record(state_id)
    transfer = request.args.get("transfer") == "1" or request.form.get("transfer") == "1"
    ours = bool(gate.can(READ, org_of(student)))
    summary = look_up(student.state_id, me()) if not ours and request.method == "GET" else None
    sites = _writable_sites()
    leas = sorted({s.lea.id: s.lea for s in sites}.values(), key=lambda o: o.code)
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            begin = _date(form.get("begin_date"), "begin_date", "Begin Date")
            record = jurisdiction.claim(student, form.get("school_code", ""), begin, form.get("local_id"), me())
        except DomainError as exc:
            error, status = failed(exc), exc.status
            student = get_student_record(state_id)
            if summary is None and not ours:
                summary = look_up(student.state_id, me())
        else:
            done = "transferred to" if record.kind == "transfer" else "claimed at"
            flash(f"Jurisdiction {done} {record.site.code} {record.site.name} from "
                  f"{record.begin_date:%m/%d/%Y}.", "success")
            return redirect(url_for("ser.jurisdiction_tab", state_id=student.state_id))
    now_at = jurisdiction.current(student) if ours else None
    if transfer and now_at is not None:  # another site of the same LEA
        sites = [s for s in sites if s.lea.id == now_at.lea_id and s.id != now_at.site_id]
    context = dict(sites_options=[(s.code, f"{s.code} {s.name}") for s in sites], leas=leas, transfer=transfer,
                   summary=summary, error=error, errors=error.fields if error else {}, values=request.form)
    if ours:
        return student_page("ser/claim.html", student, "ser.jurisdiction_tab", status, **context)
    return render_template("ser/claim.html", student=student, outside=True, **context), status
