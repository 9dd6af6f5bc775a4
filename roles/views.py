"""Pages: the catalog (what each role allows and who approves it), my access, who has access
(coordinators and auditors, in their scope) and one grant with its history."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from flask_login import current_user, login_required

from audit.models import AuditEvent
from edlink.errors import DomainError, settle
from edlink.extensions import db
from edlink.orgs import list_orgs
from roles import gate, queries
from roles.catalog import load
from roles.models import GRANT_STATUSES
from roles.provisioning import pending_for

bp = Blueprint("roles", __name__, template_folder="templates")


def _me():
    return current_user._get_current_object()


@bp.route("/catalog")
@login_required
def catalog():
    return render_template("roles/catalog.html", catalog=load(), view=queries.catalog_view())


@bp.route("/access")
@login_required
def my_access():
    user = _me()
    return render_template("roles/my_access.html", held=gate.held_grants(user), catalog=load(),
                           why_not=gate.why_not_in_force(user))


@bp.route("/access/who")
@login_required
def who_has_access():
    user = _me()
    if not queries.scope_ids(user):
        return render_template("errors/error.html", status=403, title="Not yours to see",
                               message="Who has access is for security coordinators and auditors."), 403
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = int(current_app.config["PAGE_SIZE"])
    error, rows, total = None, [], 0
    try:
        filters = queries.GrantFilters.parse(request.args)
        rows, total = queries.find_grants(user, filters, page, per_page)
    except DomainError as exc:
        settle(exc)
        filters, error = queries.GrantFilters(), exc
    scope = queries.scope_ids(user)
    orgs = [o for o in list_orgs() if o.id in scope]
    return render_template("roles/who.html", rows=rows, total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), filters=filters, error=error,
                           orgs=orgs, catalog=load(), statuses=GRANT_STATUSES,
                           may_revoke=lambda g: bool(gate.can(user, "edlink.grant.revoke", g.org))), \
        (error.status if error else 200)


@bp.route("/grants/<int:grant_id>")
@login_required
def grant_detail(grant_id: int):
    return render_grant(grant_id)


def render_grant(grant_id: int, error: DomainError | None = None) -> str:
    """A grant's page (with the message of a refused revocation, when there is one)."""
    user = _me()
    grant = queries.get_visible(user, grant_id)
    history = db.session.execute(db.select(AuditEvent).where(
        AuditEvent.target_type == "grant", AuditEvent.target_id == str(grant.id))
        .order_by(AuditEvent.seq)).scalars().all()
    return render_template("roles/grant.html", grant=grant, history=history, catalog=load(),
                           may_revoke=bool(gate.can(user, "edlink.grant.revoke", grant.org)),
                           own=grant.user_id == user.id, error=error, keycloak=queries.keycloak_state(grant),
                           keycloak_task=pending_for(grant))


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    app.register_blueprint(bp)
    add_nav(app, "roles.my_access", "My access", order=25)
    add_nav(app, "roles.who_has_access", "Who has access", lambda: bool(queries.scope_ids(_me())), order=45)
    add_nav(app, "roles.catalog", "Roles", order=80)
