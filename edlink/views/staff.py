"""The staff directory pages for data managers (and readers: coordinators, auditors)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from edlink import authz
from edlink import staff as staff_service
from edlink.csvio import ImportRejected
from edlink.errors import DomainError, settle
from edlink.extensions import db
from edlink.forms import StaffImportForm, UsernameForm
from edlink.models import STAFF_STATUSES, Org
from edlink.views import bp


def _readable() -> set[int]:
    ids = authz.orgs_with("edlink.staff.read") | authz.orgs_with("edlink.staff.manage")
    if not ids:
        abort(403)
    return ids


def manager_actor(source: str) -> staff_service.Actor:
    return staff_service.Actor(current_user._get_current_object(), source,
                               authz.orgs_with("edlink.staff.manage"))


@bp.route("/staff")
@login_required
def staff_list():
    ids = _readable()
    page = max(request.args.get("page", 1, type=int), 1)
    q, status, lea = (request.args.get(k, "").strip() for k in ("q", "status", "lea"))
    per_page = int(current_app.config["PAGE_SIZE"])
    rows, total = staff_service.search(ids, q, status, lea, page, per_page)
    leas = db.session.execute(db.select(Org).where(Org.id.in_(ids), Org.kind.in_(("lea", "state")))
                              .order_by(Org.code)).scalars().all()
    return render_template("edlink/staff_list.html", rows=rows, total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), q=q, status=status,
                           lea=lea, leas=leas, statuses=STAFF_STATUSES,
                           can_manage=bool(authz.orgs_with("edlink.staff.manage")))


@bp.route("/staff/<staff_id>", methods=["GET", "POST"])
@login_required
def staff_record(staff_id: str):
    ids = _readable()
    record = staff_service.get_staff(staff_id)
    if record.lea_id not in ids:
        abort(404)
    may_manage = authz.can("edlink.staff.manage", record.lea)
    form = UsernameForm(username=record.username)
    status = 200
    if request.method == "POST":
        if not may_manage:
            abort(403)
        if form.validate_on_submit():
            try:
                staff_service.set_username(record, form.username.data, manager_actor("page"))
            except DomainError as exc:
                settle(exc)
                form.username.errors.append(exc.message)
                status = exc.status
            else:
                flash("The username is saved." if record.username else "The username is cleared.", "success")
                return redirect(url_for("edlink.staff_record", staff_id=staff_id))
        else:
            status = 422
    return render_template("edlink/staff_record.html", record=record, form=form,
                           may_manage=may_manage, history=staff_service.history(record),
                           link=_active_link(record)), status


def _active_link(record):
    from edlink.models import Link
    return db.session.execute(db.select(Link).where(Link.staff_record_id == record.id,
                                                    Link.ended_at.is_(None))).scalar_one_or_none()


@bp.route("/staff/import", methods=["GET", "POST"])
@login_required
def staff_import():
    if not authz.orgs_with("edlink.staff.manage"):
        abort(403)
    form = StaffImportForm()
    result, rejected, status = None, None, 200
    if form.validate_on_submit():
        try:
            result = staff_service.import_staff(form.file.data.read(), manager_actor("import"))
        except ImportRejected as exc:
            settle(exc)
            rejected, status = exc, 422
        except DomainError as exc:
            settle(exc)
            form.file.errors.append(exc.message)
            status = exc.status
    elif request.method == "POST":
        status = 422
    return render_template("edlink/staff_import.html", form=form, result=result,
                           rejected=rejected), status
