"""In-app notifications under /api/v1/notifications (the caller's own only)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from edlink.api import login_required, me
from notifications import service
from notifications.events import absolute
from notifications.models import Notification

blp = Blueprint("notifications_api", __name__, url_prefix="/api/v1/notifications",
                description="In-app notifications")


class NotificationOut(Schema):
    id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"description": "what happened, e.g. request.approved"})
    title = fields.String(required=True)
    summary = fields.String(required=True, metadata={"description": "what happened and what to do"})
    link = fields.String(allow_none=True, metadata={"description": "the EdLink path of the thing concerned"})
    url = fields.String(allow_none=True, metadata={"description": "the same, as an absolute URL"})
    action_needed = fields.Boolean(required=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)
    read = fields.Boolean(required=True)


class NotificationListArgs(Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread ones"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class NotificationListOut(Schema):
    items = fields.List(fields.Nested(NotificationOut), required=True)
    unread = fields.Integer(required=True, metadata={"description": "the caller's unread notifications in all"})
    total = fields.Integer(required=True, metadata={"description": "notifications matching the query"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class ReadAllOut(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)


class PreferencesIO(Schema):
    digest_action_needed = fields.Boolean(required=True, metadata={
        "description": "one daily digest of action-needed e-mails instead of one each"})


def view(n: Notification) -> dict:
    return {"id": n.id, "event": n.event, "title": n.title, "summary": n.summary, "link": n.link,
            "url": absolute(n.link), "action_needed": n.action_needed, "due_at": n.due_at,
            "created_at": n.created_at, "read_at": n.read_at, "read": n.read_at is not None}


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(NotificationListArgs, location="query")
@blp.response(200, NotificationListOut)
def list_notifications(args):
    """The caller's notifications, newest first, with the unread count."""
    rows, total = service.list_notifications(me(), unread_only=args["unread"], page=args["page"],
                                             per_page=args["per_page"])
    return {"items": [view(n) for n in rows], "unread": service.unread_count(me()), "total": total,
            "page": args["page"], "per_page": args["per_page"]}


@blp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
@blp.response(200, NotificationOut)
def read(notification_id: int):
    """Mark one of the caller's notifications read (404 unknown_notification for anyone else's)."""
    return view(service.mark_read(me(), notification_id))


@blp.route("/read-all", methods=["POST"])
@login_required
@blp.response(200, ReadAllOut)
def read_all():
    """Mark all the caller's notifications read."""
    return {"marked": service.mark_all_read(me()), "unread": 0}


@blp.route("/preferences", methods=["GET"])
@login_required
@blp.response(200, PreferencesIO)
def get_preferences():
    """The caller's notification preferences."""
    return {"digest_action_needed": service.preferences(me()).digest_action_needed}


@blp.route("/preferences", methods=["PUT"])
@login_required
@blp.arguments(PreferencesIO)
@blp.response(200, PreferencesIO)
def put_preferences(body):
    """Choose a daily digest for action-needed e-mails (decisions about your own access are always sent at once)."""
    pref = service.set_preferences(me(), digest_action_needed=body["digest_action_needed"])
    return {"digest_action_needed": pref.digest_action_needed}
