"""Pages: the notification centre, preferences, and (state administrators) the e-mail outbox."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from edlink import authz
from edlink.errors import DomainError, settle
from notifications import outbox, service
from notifications.forms import EmptyForm, PreferencesForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")


def is_state_admin() -> bool:
    """Only state administrators hold edlink.catalog.manage (a state-scoped role)."""
    return authz.can("edlink.catalog.manage")


def _me():
    return current_user._get_current_object()


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _back():
    return redirect(url_for("notifications.centre", show=request.args.get("show") or None,
                            page=request.args.get("page", type=int) or None))


@bp.route("", methods=["GET"])
@login_required
def centre():
    show = "unread" if request.args.get("show") == "unread" else "all"
    per_page = int(current_app.config["PAGE_SIZE"])
    rows, total = service.list_notifications(_me(), unread_only=show == "unread", page=_page(), per_page=per_page)
    return render_template("notifications/centre.html", rows=rows, total=total, page=_page(), show=show,
                           pages=max((total + per_page - 1) // per_page, 1), form=EmptyForm(),
                           unread=service.unread_count(_me()))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    if EmptyForm().validate_on_submit():
        note = service.mark_read(_me(), notification_id)
        flash(f"Marked as read: {note.title}", "success")
    return _back()


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    if EmptyForm().validate_on_submit():
        marked = service.mark_all_read(_me())
        flash(f"Marked {marked} notification{'' if marked == 1 else 's'} as read." if marked
              else "There was nothing unread.", "success")
    return _back()


@bp.route("/<int:notification_id>/open", methods=["GET"])
@login_required
def open_link(notification_id: int):
    """Follow a notification's link, marking it read on the way."""
    note = service.mark_read(_me(), notification_id)
    return redirect(note.link or url_for("notifications.centre"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    current = service.preferences(_me())
    form = PreferencesForm(digest_action_needed=current.digest_action_needed)
    if form.validate_on_submit():
        service.set_preferences(_me(), digest_action_needed=form.digest_action_needed.data)
        flash("Your notification preferences are saved.", "success")
        return redirect(url_for("notifications.preferences"))
    status = 422 if form.errors else 200
    return render_template("notifications/preferences.html", form=form, address=service.address_for(_me()),
                           hour=current_app.config["DIGEST_HOUR"], zone=current_app.config["MAIL_TIMEZONE"]), status


@bp.route("/outbox", methods=["GET"])
@login_required
def outbox_list():
    if not is_state_admin():
        abort(403)
    view = request.args.get("view") or "problems"
    if view not in outbox.VIEWS:
        view = "problems"
    per_page = int(current_app.config["PAGE_SIZE"])
    rows, total = outbox.list_outbox(view, _page(), per_page)
    return render_template("notifications/outbox.html", rows=rows, total=total, page=_page(), view=view,
                           views=outbox.VIEWS, counts=outbox.counts(),
                           pages=max((total + per_page - 1) // per_page, 1))


@bp.route("/outbox/<int:message_id>", methods=["GET"])
@login_required
def outbox_message(message_id: int):
    if not is_state_admin():
        abort(403)
    return render_template("notifications/outbox_message.html", message=outbox.get_message(message_id),
                           form=EmptyForm())


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@login_required
def outbox_retry(message_id: int):
    if not is_state_admin():
        abort(403)
    if EmptyForm().validate_on_submit():
        try:
            outbox.retry(message_id)
        except DomainError as exc:
            settle(exc)
            flash(exc.message, "error")
        else:
            flash("The message will be sent again on the next dispatch run.", "success")
    return redirect(url_for("notifications.outbox_message", message_id=message_id))


