"""Notifications: the outbox, the e-mail and in-app channels, message templates, the dispatcher.

Other packages call :func:`notify` inside their own transaction::

    from notifications import notify
    notify([approver], "request.action_needed", {"requester": "...", "role": "...", "org": "..."},
           link=f"/requests/{request_id}", due_at=deadline)

The ``notifications.dispatch`` job (``edlink jobs run notifications.dispatch``) sends what is due.
"""
from __future__ import annotations

from flask import Flask

from notifications.events import EVENTS, UnknownEvent
from notifications.service import (
    address_for,
    list_notifications,
    mark_all_read,
    mark_read,
    notify,
    preferences,
    set_preferences,
    unread_count,
)

__all__ = ["EVENTS", "UnknownEvent", "address_for", "init_app", "list_notifications", "mark_all_read",
           "mark_read", "notify", "preferences", "set_preferences", "unread_count"]


def init_app(app: Flask) -> None:
    """Template filter, navigation entry, unread badge and the dispatch job (the app factory
    registers the blueprints)."""
    from flask import has_request_context, url_for
    from flask_login import current_user

    from edlink import jobs
    from edlink.views.context import add_nav
    from notifications import events
    from notifications.dispatch import dispatch
    from notifications.views import is_state_admin

    events.init_app(app)
    jobs.register(app, "notifications.dispatch", dispatch)
    add_nav(app, "notifications.centre", "Notifications", order=60)
    add_nav(app, "notifications.outbox_list", "E-mail outbox", is_state_admin, order=90)

    @app.context_processor
    def _notification_badge():
        if not has_request_context() or not current_user.is_authenticated:
            return {}
        return {"notification_badge": {"count": unread_count(current_user), "url": url_for("notifications.centre")}}
