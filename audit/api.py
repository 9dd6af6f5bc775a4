"""The audit trail under /api/v1/audit: events (filtered, paged by sequence), export, verify."""
from __future__ import annotations

from flask import Response, request, stream_with_context
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from audit import audit_key
from audit import query as trail
from audit.export import start_export
from audit.verify import PROBLEMS, verify
from edlink import authz
from edlink.api import login_required, me
from edlink.errors import Forbidden, Invalid

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit", description="The audit trail")

FILTER_HELP = ("Filters (query): action (exact, or a prefix ending in * such as grant.*), actor (username or "
               "system label), target (type:id such as grant:12, or an id), org (org code), since / until "
               "(ISO date or time; until is exclusive for times and inclusive for dates).")


class AuditHeadOut(Schema):
    seq = fields.Integer(required=True)
    hash = fields.String(required=True)
    occurred_at = fields.String(allow_none=True)


class AuditVerifyOut(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "true when the whole chain verifies"})
    count = fields.Integer(required=True, metadata={"description": "events verified"})
    head = fields.Nested(AuditHeadOut, allow_none=True,
                         metadata={"description": "the last event verified (on failure: the last good one)"})
    bad_seq = fields.Integer(allow_none=True, metadata={"description": "the first bad sequence number"})
    problem = fields.String(allow_none=True, metadata={"description": "what is wrong there: " + ", ".join(PROBLEMS)})
    message = fields.String()
    checkpoint_seq = fields.Integer(allow_none=True)


class AuditEventOut(Schema):
    seq = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    action = fields.String(required=True)
    actor = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True)
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    org = fields.String(allow_none=True)
    details = fields.Dict()
    hash = fields.String()


class AuditPageOut(Schema):
    events = fields.List(fields.Nested(AuditEventOut), required=True)
    order = fields.String(metadata={"description": "asc (oldest first) or desc (newest first)"})
    next_after_seq = fields.Integer(allow_none=True, metadata={"description": "pass as after_seq for the next page"})
    next_before_seq = fields.Integer(allow_none=True, metadata={"description": "pass as before_seq for the next page"})


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise Invalid("bad_filter", f"{name} must be a whole number.", fields={name: ["not a number"]}) from None
    if number < 0:
        raise Invalid("bad_filter", f"{name} must not be negative.", fields={name: ["negative"]})
    return number


def _order() -> bool:
    order = request.args.get("order", "asc").strip().lower()
    if order not in ("asc", "desc"):
        raise Invalid("bad_filter", "order must be asc or desc.", fields={"order": ["asc or desc"]})
    return order == "desc"


@blp.route("/events", methods=["GET"])
@login_required
@blp.response(200, AuditPageOut)
def list_events():
    """The events you may see, oldest first after ``after_seq`` (or newest first with ``order=desc``,
    before ``before_seq``); ``limit`` up to 1000. Everyone sees their own events; holders of
    edlink.audit.read also those of the orgs (and their people) the permission covers."""
    filters = trail.Filters.parse(request.args)
    newest_first = _order()
    page = trail.events_page(filters, trail.scope_for(me()), after_seq=_int_arg("after_seq"),
                             before_seq=_int_arg("before_seq"), newest_first=newest_first,
                             limit=_int_arg("limit"))
    return {"events": [e.as_dict() for e in page.events], "order": "desc" if newest_first else "asc",
            "next_after_seq": None if newest_first else page.next_cursor,
            "next_before_seq": page.next_cursor if newest_first else None}


list_events.__doc__ += "\n\n" + FILTER_HELP


@blp.route("/events/<int:seq>", methods=["GET"])
@login_required
@blp.response(200, AuditEventOut)
def get_event(seq: int):
    """One event (404 when it does not exist or is not visible to you)."""
    return trail.get_event(seq, trail.scope_for(me())).as_dict()


@blp.route("/events/export", methods=["GET"])
@login_required
def export_events():
    """The filtered view as a streamed download: ``format=csv`` (default) or ``jsonl``, oldest first,
    with prev_hash and hash. Recorded as a report.generated event."""
    filters = trail.Filters.parse(request.args)
    name, mimetype, body = start_export(request.args.get("format"), filters, trail.scope_for(me()), me())
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@blp.route("/verify", methods=["GET"])
@login_required
@blp.response(200, AuditVerifyOut)
def verify_trail():
    """Verify the hash chain of the whole trail (200 either way; see ``ok``)."""
    if not authz.can("edlink.audit.read"):
        raise Forbidden("forbidden", "You do not have the permission edlink.audit.read.")
    return verify(audit_key()).as_dict()
