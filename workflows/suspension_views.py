"""The suspend and restore forms on a grant's page (coordinators in scope); the rules are in
workflows.suspension."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from edlink.errors import DomainError, settle
from edlink.extensions import db
from workflows.suspension import coordinator_restore, coordinator_suspend
from workflows.views import bp


def _change(grant_id: int, change, done: str):
    try:
        grant = change(current_user._get_current_object(), grant_id, request.form.get("reason"))
    except DomainError as exc:
        settle(exc)
        if exc.status == 404:
            raise
        from roles.views import render_grant
        return render_grant(grant_id, error=exc), exc.status
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("roles.grant_detail", grant_id=grant.id))


@bp.route("/grants/<int:grant_id>/suspend", methods=["POST"])
@login_required
def suspend_grant(grant_id: int):
    return _change(grant_id, coordinator_suspend, "Suspended: the holder has been told.")


@bp.route("/grants/<int:grant_id>/restore", methods=["POST"])
@login_required
def restore_grant(grant_id: int):
    return _change(grant_id, coordinator_restore, "Restored: the holder has been told.")
