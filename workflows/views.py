"""Request pages: the request form with its approval path, my requests, the approver inbox (with
bulk decisions), a request's detail and history, delegation settings and the confidentiality
statement. The rules live in the service modules; these only parse, call and render."""
from __future__ import annotations

import datetime as _dt

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from audit.models import AuditEvent
from edlink import authz, clock
from edlink.errors import DomainError, Invalid, settle
from edlink.extensions import db
from edlink.orgs import find_org
from edlink.views.auth import safe_next
from roles.catalog import load
from workflows import decisions, delegation, queries, routing
from workflows.api import parse_end
from workflows.models import AccessRequest
from workflows.requests import allowed_orgs, cancel, submit

bp = Blueprint("workflows", __name__, template_folder="templates")


def _me():
    return current_user._get_current_object()


def _requestable_roles(user) -> list:
    return [r for r in load().roles.values() if allowed_orgs(user, r) and not getattr(r, "retired", False)]


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    user = _me()
    roles = _requestable_roles(user)
    form = request.form if request.method == "POST" else request.args
    role_code, org_code = form.get("role", ""), form.get("org", "")
    justification, ends_on = form.get("justification", ""), form.get("ends_on", "")
    role = load().roles.get(role_code)
    org = find_org(org_code) if org_code else None
    orgs = allowed_orgs(user, role) if role else []
    path, error, status = None, None, 200
    if role is not None and org is not None:
        path = routing.path_label(routing.plan(role, org, user))
    if request.method == "POST":
        try:
            if role is None or org is None:
                raise Invalid("choose_role_and_org", "Choose the role and where you need it.")
            made = submit(user, role.code, org, justification, parse_end(ends_on or None))
        except DomainError as exc:
            settle(exc)
            error, status = exc, exc.status
        else:
            flash(f"Request {made.id} submitted: it now waits on {routing.stage_label(made.stages[0])}.", "success")
            return redirect(url_for("workflows.request_detail", request_id=made.id))
    return render_template("workflows/new_request.html", roles=roles, role=role, orgs=orgs, org=org,
                           justification=justification, ends_on=ends_on, path=path, error=error,
                           linked=user.active_link is not None), status


@bp.route("/requests")
@login_required
def my_requests():
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = int(current_app.config["PAGE_SIZE"])
    filters = queries.RequestFilters(status=request.args.get("status") or None)
    if filters.status not in (None, *queries.STATUSES):
        filters.status = None
    rows, total = queries.find(_me(), "mine", filters, page, per_page)
    return render_template("workflows/my_requests.html", rows=rows, total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), status=filters.status,
                           statuses=queries.STATUSES, label=routing.stage_label, catalog=load())


@bp.route("/requests/inbox", methods=["GET", "POST"])
@login_required
def inbox():
    user = _me()
    results = []
    if request.method == "POST":
        action = request.form.get("action")
        ids = [int(i) for i in request.form.getlist("request_id") if i.isdigit()]
        reason = request.form.get("reason", "")
        if action not in ("approve", "deny") or not ids:
            flash("Tick at least one request, then choose Approve or Deny.", "warning")
        for rid in ids:  # each decision stands on its own: one refusal does not undo the others
            try:
                item = queries.get_visible(user, rid)
                if action == "approve":
                    decisions.approve(user, item, request.form.get("comment"))
                else:
                    decisions.deny(user, item, reason)
                db.session.commit()
                results.append((rid, True, "approved" if action == "approve" else "denied"))
            except DomainError as exc:
                settle(exc)
                results.append((rid, False, exc.message))
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = int(current_app.config["PAGE_SIZE"])
    try:
        filters = queries.RequestFilters.parse(request.args)
    except DomainError:
        filters = queries.RequestFilters()
    rows, total = queries.find(user, "inbox", filters, page, per_page)
    return render_template("workflows/inbox.html", rows=rows, total=total, page=page, results=results,
                           pages=max((total + per_page - 1) // per_page, 1), filters=filters,
                           label=routing.stage_label, catalog=load(), now=clock.now())


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@login_required
def request_detail(request_id: int):
    user = _me()
    item = queries.get_visible(user, request_id)
    error, status = None, 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "approve":
                decisions.approve(user, item, request.form.get("comment"))
                flash("Approved.", "success")
            elif action == "deny":
                decisions.deny(user, item, request.form.get("reason", ""))
                flash("Denied; the requester has been told why.", "success")
            elif action == "cancel":
                cancel(user, item)
                flash("Your request is cancelled.", "success")
            else:
                raise DomainError("bad_action", "Choose approve, deny or cancel.", status=400)
        except DomainError as exc:
            settle(exc)
            error, status = exc, exc.status
        else:
            return redirect(url_for("workflows.request_detail", request_id=item.id))
    history = db.session.execute(db.select(AuditEvent).where(
        AuditEvent.target_type == AccessRequest.__audit_type__, AuditEvent.target_id == str(item.id))
        .order_by(AuditEvent.seq)).scalars().all()
    stage = item.open_stage()
    may_decide = bool(stage) and item.requester_id != user.id and decisions.may_decide(user, stage)[0]
    return render_template("workflows/request_detail.html", item=item, history=history, error=error,
                           may_decide=may_decide, role=load().role(item.role_code), label=routing.stage_label,
                           is_requester=item.requester_id == user.id), status


@bp.route("/delegations", methods=["GET", "POST"])
@login_required
def delegations():
    user = _me()
    error, status = None, 200
    form = request.form
    if request.method == "POST":
        try:
            if form.get("end"):
                delegation.end(user, int(form["end"]))
                flash("Delegation ended.", "success")
            else:
                starts, ends = _date(form.get("starts_on")), _date(form.get("ends_on"))
                made = delegation.create(user, form.get("delegate", ""), starts, ends)
                flash(f"{made.delegate.username} decides your requests from {made.starts_on} to {made.ends_on}.",
                      "success")
        except DomainError as exc:
            settle(exc)
            error, status = exc, exc.status
        else:
            return redirect(url_for("workflows.delegations"))
    return render_template("workflows/delegations.html", data=delegation.overview(user), error=error, form=form,
                           may_delegate=bool(authz.orgs_with("edlink.request.approve", user))), status


def _date(value: str | None) -> _dt.date:
    try:
        return _dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise Invalid("bad_dates", "Give both dates as YYYY-MM-DD.", fields={"starts_on": ["date"]}) from None


@bp.route("/statement", methods=["GET", "POST"])
@login_required
def statement():
    """Read and sign the confidentiality statement; state administrators publish new versions."""
    from workflows.statement_page import handle_post, page_context
    user = _me()
    error, status = None, 200
    if request.method == "POST":
        try:
            message = handle_post(user, request.form, request.remote_addr)
        except DomainError as exc:
            settle(exc)
            error, status = exc, exc.status
        else:
            flash(message, "success")
            target = request.args.get("next") if request.form.get("action", "sign") == "sign" else None
            return redirect(safe_next(target) if target else url_for("workflows.statement"))
    return render_template("workflows/statement.html", error=error, form=request.form,
                           **page_context(user)), status


@bp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@login_required
def revoke_grant(grant_id: int):
    """The revoke / give-up form on a grant's page."""
    from workflows.revocation import revoke_grant as revoke
    try:
        grant = revoke(_me(), grant_id, request.form.get("reason"))
    except DomainError as exc:
        settle(exc)
        if exc.status == 404:
            raise
        from roles.views import render_grant
        return render_grant(grant_id, error=exc), exc.status
    db.session.commit()
    flash("Revoked: the holder has been told." if grant.user_id != _me().id else "You gave up this role.", "success")
    return redirect(url_for("roles.grant_detail", grant_id=grant.id))


@bp.route("/grants/bulk-revoke", methods=["GET", "POST"])
@login_required
def bulk_revoke():
    """Revoke former employees' access by employee number, in the caller's scope."""
    from workflows.revocation import bulk_revoke as run
    numbers, reason = request.form.get("employee_numbers", ""), request.form.get("reason", "")
    lines, error, status = None, None, 200
    if not authz.orgs_with("edlink.grant.revoke"):
        return render_template("errors/error.html", status=403, title="Not yours to do",
                               message="Bulk revocation is for security coordinators."), 403
    if request.method == "POST":
        try:
            lines = run(_me(), numbers, reason)
        except DomainError as exc:
            settle(exc)
            error, status = exc, exc.status
        else:
            db.session.commit()
    return render_template("workflows/bulk_revoke.html", numbers=numbers, reason=reason, lines=lines,
                           error=error), status


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    from workflows import statement_page, suspension_views  # noqa: F401  (their routes are on bp)
    app.register_blueprint(bp)
    add_nav(app, "workflows.my_requests", "My requests", order=30)
    add_nav(app, "workflows.statement", "Statement", order=35)
    add_nav(app, "workflows.inbox", "Approvals", _approves, order=40)
    from workflows.reviews import views as review_pages
    review_pages.init_app(app)


def _approves() -> bool:
    """Approvers, and delegates of one while the delegation lasts."""
    return bool(authz.orgs_with("edlink.request.approve")) or bool(
        decisions.delegations_to(_me(), clock.today()))
