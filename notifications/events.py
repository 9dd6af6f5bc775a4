"""The events notifications know, and rendering their messages.

Every event has a plain-text and an HTML template under
``notifications/templates/notifications/mail/<event>.txt|.html``. The text template defines
the blocks ``subject``, ``what`` (what happened) and ``todo`` (what the reader must do; empty
when nothing); both extend a layout that adds the greeting, the deadline, the link and the
footer. Templates are rendered when the action happens, in the caller's transaction, so a
message says what was true then.

Template context: whatever the caller passes (flat values: strings, numbers, dates), plus
``recipient`` (the User), ``recipient_name``, ``event``, ``action_needed``, ``due_at`` (an aware
datetime or None), ``link_url`` (absolute, or None), ``base_url`` and ``preferences_url``.
Keys the shipped templates use: ``request_id``, ``role``, ``org``, ``requester``, ``stage``,
``decided_by``, ``reason``, ``comment``, ``delegated_by``, ``escalated_from``, ``expires_on``,
``review``, ``items``, ``application``, ``certified``, ``revoked``, ``removals``, ``total``,
``statement_version``, ``staff_id``, ``person``, ``change``, ``old_place``, ``new_place``, and for
``audit.verify_failed`` ``bad_seq``, ``problem``, ``message``, ``events``.
Missing keys render as generic words.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from edlink import clock

ACTION = "action"  # something waits on the reader; may go out in a daily digest
OWN = "own"  # about the reader's own access or account; always sent at once
INFO = "info"  # for information; sent at once

TEMPLATE_DIR = "notifications/mail"


@dataclass(frozen=True)
class Event:
    name: str
    kind: str
    label: str

    @property
    def action_needed(self) -> bool:
        return self.kind == ACTION


EVENTS: dict[str, Event] = {e.name: e for e in (
    Event("request.submitted", OWN, "Your request was submitted (receipt)"),
    Event("request.action_needed", ACTION, "A request waits on your decision"),
    Event("request.stage_approved", OWN, "A stage of your request was approved"),
    Event("request.approved", OWN, "Your request was approved"),
    Event("request.denied", OWN, "Your request was denied"),
    Event("request.cancelled", OWN, "A request was cancelled"),
    Event("request.expired", OWN, "A request expired undecided"),
    Event("request.escalated", ACTION, "A request was escalated to you"),
    Event("request.delegated", ACTION, "A request was delegated to you"),
    Event("request.reminder", ACTION, "Reminder: a request waits on your decision"),
    Event("request.overdue", INFO, "A request routed to you went to the state administrators"),
    Event("delegation.created", INFO, "You were named as an approver's delegate"),
    Event("grant.revoked", OWN, "Your access was revoked"),
    Event("grant.suspended", OWN, "Your access was suspended"),
    Event("grant.restored", OWN, "Your access was restored"),
    Event("grant.expiring", OWN, "Your access expires soon"),
    Event("access.moved", OWN, "Your assignment changed: request access at your new location"),
    Event("access.changed", INFO, "Access of someone in your school system changed (HR, inactivity)"),
    Event("review.started", ACTION, "An access review needs your decisions"),
    Event("review.reminder", ACTION, "Reminder: an access review is open"),
    Event("review.closed", INFO, "An access review closed"),
    Event("review.escalated", ACTION, "A held access review waits on the state administrators"),
    Event("review.held", INFO, "An access review was held at its deadline"),
    Event("attestation.due", OWN, "Sign the confidentiality statement"),
    Event("attestation.lapsed", OWN, "Your confidentiality statement lapsed"),
    Event("link.created", OWN, "Your account was linked to your staff ID"),
    Event("audit.verify_failed", INFO, "The nightly audit trail verification failed"),
)}


class UnknownEvent(ValueError):
    """A caller named an event that has no templates (a programming error)."""


def get_event(name: str) -> Event:
    try:
        return EVENTS[name]
    except KeyError:
        raise UnknownEvent(f"no notification event {name!r}; known: {', '.join(sorted(EVENTS))}") from None


@dataclass(frozen=True)
class Rendered:
    subject: str
    summary: str  # what happened and what to do, one paragraph (the in-app text)
    text: str
    html: str


def _squash(parts) -> str:
    return " ".join("".join(parts).split())


def absolute(link: str | None) -> str | None:
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return current_app.config["BASE_URL"] + "/" + link.lstrip("/")


def render(template: str, context: dict[str, Any]) -> Rendered:
    """Render ``mail/<template>.txt`` and ``.html`` with ``context`` (see the module docstring)."""
    env = current_app.jinja_env
    text_template = env.get_template(f"{TEMPLATE_DIR}/{template}.txt")
    block_context = text_template.new_context(dict(context))
    subject = _squash(text_template.blocks["subject"](block_context))
    what = _squash(text_template.blocks["what"](block_context))
    todo = _squash(text_template.blocks["todo"](block_context)) if "todo" in text_template.blocks else ""
    text = text_template.render(context).strip() + "\n"
    html = env.get_template(f"{TEMPLATE_DIR}/{template}.html").render({**context, "subject": subject})
    return Rendered(subject=subject, summary=f"{what} {todo}".strip(), text=text, html=html)


def local_time(value: _dt.datetime | _dt.date | None) -> str:
    """An instant as the reader's agency shows it: '3 March 2026, 17:00 CST' (dates: '3 March 2026')."""
    if value is None:
        return ""
    if not isinstance(value, _dt.datetime):
        return f"{value.day} {value:%B %Y}"
    local = clock.as_utc(value).astimezone(ZoneInfo(current_app.config["MAIL_TIMEZONE"]))
    return f"{local.day} {local:%B %Y, %H:%M %Z}"


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
