"""The audit trail pages: the events (filtered, newest first, paged by sequence), one event,
exports and verification. The rules live in audit.query / audit.export / audit.verify."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from audit import audit_key
from audit import query as trail
from audit.export import FORMATS, start_export
from audit.verify import verify
from edlink import authz
from edlink.errors import DomainError, Forbidden
from edlink.extensions import db
from edlink.models import Link, StaffRecord

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")
LINKS_KEY = "audit.target_links"


def add_target_link(app: Flask, target_type: str, build: Callable[[str], str | None]) -> None:
    """Let an event about a ``target_type`` link to that thing's page: ``build(target_id)`` returns
    the URL, or None when there is no page (or the reader may not see it)."""
    app.extensions.setdefault(LINKS_KEY, {})[target_type] = build


def _target_url(event) -> str | None:
    build = current_app.extensions.get(LINKS_KEY, {}).get(event.target_type)
    if build is None or event.target_id is None:
        return None
    try:
        return build(event.target_id)
    except DomainError:
        return None


def _staff_url(staff_id: str) -> str | None:
    record = db.session.execute(db.select(StaffRecord).where(StaffRecord.staff_id == staff_id)).scalar()
    if record is None:
        return None
    if not (authz.can("edlink.staff.read", record.lea) or authz.can("edlink.staff.manage", record.lea)):
        return None
    return url_for("edlink.staff_record", staff_id=staff_id)


def _user_staff_url(user_id: str) -> str | None:
    """A user's page is their staff record (the one their current link names)."""
    if not user_id.isdigit():
        return None
    staff_id = db.session.execute(
        db.select(StaffRecord.staff_id).join(Link, Link.staff_record_id == StaffRecord.id)
        .where(Link.user_id == int(user_id), Link.ended_at.is_(None))).scalar()
    return _staff_url(staff_id) if staff_id else None


def _reader_scope() -> trail.Scope:
    return trail.scope_for(current_user._get_current_object())


@bp.route("/")
@login_required
def events():
    scope = _reader_scope()
    error = None
    try:
        filters = trail.Filters.parse(request.args)
    except DomainError as exc:
        filters, error = trail.Filters(), exc
    before = request.args.get("before", type=int)
    after = request.args.get("after", type=int)
    if after is not None:  # "Newer": the page just above ``after``, shown newest first
        page = trail.events_page(filters, scope, after_seq=after)
        rows = list(reversed(page.events))
        older = rows[-1].seq if rows else None
        newer = page.next_cursor
    else:
        page = trail.events_page(filters, scope, before_seq=before, newest_first=True)
        rows, older, newer = page.events, page.next_cursor, (page.events[0].seq if page.events and before else None)
    return render_template("audit/events.html", rows=rows, filters=filters, error=error, older=older,
                           newer=newer, scope=scope, formats=FORMATS, args=filters.as_args(),
                           may_verify=authz.can(trail.PERMISSION)), 400 if error else 200


@bp.route("/<int:seq>")
@login_required
def event(seq: int):
    item = trail.get_event(seq, _reader_scope())
    return render_template("audit/event.html", event=item, target_url=_target_url(item),
                           actor_url=_user_staff_url(str(item.actor_id)) if item.actor_id else None)


@bp.route("/export")
@login_required
def export():
    filters = trail.Filters.parse(request.args)
    user = current_user._get_current_object()
    name, mimetype, body = start_export(request.args.get("format"), filters, trail.scope_for(user), user)
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_page():
    if not authz.can(trail.PERMISSION):
        raise Forbidden("forbidden", "Verifying the trail needs the permission edlink.audit.read.")
    result = verify(audit_key()) if request.method == "POST" else None
    return render_template("audit/verify.html", result=result)


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    app.register_blueprint(bp)
    add_nav(app, "audit.events", "Audit trail", lambda: authz.can(trail.PERMISSION), order=80)
    add_target_link(app, trail.STAFF_TARGET, _staff_url)
    add_target_link(app, trail.USER_TARGET, _user_staff_url)
    import audit.reports
    from audit.reports import views as report_pages
    audit.reports.init_app(app)
    report_pages.init_app(app)
