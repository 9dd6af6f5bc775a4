"""``notify(...)`` and the in-app notification centre's rules.

``notify`` writes in the caller's transaction (add and flush, never commit): one in-app
notification and one outbox e-mail per recipient. Roll the caller back and neither exists;
commit it and the dispatcher delivers the e-mail once.
"""
from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func

from edlink import clock
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, User
from notifications.events import absolute, get_event, render
from notifications.models import Notification, OutboxMessage, Preference

NO_ADDRESS = ("not sent: no e-mail address (no active linked staff record with an e-mail, "
              "and none from the identity provider)")


def address_for(user: User) -> str | None:
    """The e-mail of the user's linked, active staff record; else the identity provider's."""
    link = db.session.execute(db.select(Link).where(Link.user_id == user.id, Link.ended_at.is_(None))
                              ).scalar_one_or_none()
    if link is not None and link.staff_record.status == "active" and (link.staff_record.email or "").strip():
        return link.staff_record.email.strip()
    return (user.email or "").strip() or None


def new_message_id() -> str:
    sender = str(current_app.config["MAIL_FROM"])
    domain = sender.rpartition("@")[2].strip("<> ") or "edlink.invalid"
    return f"<edlink.{uuid.uuid4().hex}@{domain}>"


def next_digest_at(now: _dt.datetime) -> _dt.datetime:
    """The next DIGEST_HOUR:00 (in MAIL_TIMEZONE) strictly after ``now``, in UTC."""
    zone = ZoneInfo(current_app.config["MAIL_TIMEZONE"])
    hour = _dt.time(int(current_app.config["DIGEST_HOUR"]))
    local_day = now.astimezone(zone).date()
    for offset in range(3):
        candidate = _dt.datetime.combine(local_day + _dt.timedelta(days=offset), hour, tzinfo=zone)
        if candidate > now:
            return candidate.astimezone(clock.UTC)
    raise AssertionError("unreachable")


def _check_link(link: str | None) -> str | None:
    if link is None:
        return None
    base = current_app.config["BASE_URL"]
    if link.startswith(base + "/"):
        link = link[len(base):]
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError(f"a notification link is a path inside EdLink, not {link!r}")
    return link


def notify(recipients: User | Iterable[User], event: str, context: Mapping[str, Any] | None = None, *,
           link: str | None = None, due_at: _dt.datetime | None = None) -> list[Notification]:
    """Tell ``recipients`` that ``event`` happened: an in-app notification and an e-mail each.

    ``event`` is one of ``notifications.events.EVENTS``; ``context`` holds the template values
    (see ``notifications.events``); ``link`` is the EdLink path of the request, grant or review
    concerned; ``due_at`` the deadline, if the reader must act. Adds and flushes in the current
    transaction; returns the in-app notifications.
    """
    spec = get_event(event)
    link = _check_link(link)
    if isinstance(recipients, User):
        recipients = [recipients]
    now = clock.now()
    config = current_app.config
    made: list[Notification] = []
    seen: set[int] = set()
    for user in recipients:
        if user.id in seen:
            continue
        seen.add(user.id)
        values = {**(context or {}), "recipient": user, "recipient_name": user.display_name or user.username,
                  "event": event, "action_needed": spec.action_needed, "due_at": due_at,
                  "link_url": absolute(link), "base_url": config["BASE_URL"],
                  "preferences_url": absolute("/notifications/preferences")}
        rendered = render(event, values)
        note = Notification(user_id=user.id, event=event, title=rendered.subject[:300], summary=rendered.summary,
                            link=link, action_needed=spec.action_needed, due_at=due_at, created_at=now)
        db.session.add(note)
        address = address_for(user)
        message = OutboxMessage(user_id=user.id, notification=note, event=event, to_address=address,
                                subject=rendered.subject[:300], body_text=rendered.text, body_html=rendered.html,
                                message_id=new_message_id(), status="pending", attempts=0,
                                next_attempt_at=now, created_at=now)
        if address is None:
            message.status, message.last_error, message.next_attempt_at = "skipped", NO_ADDRESS, None
        elif spec.action_needed and preferences(user).digest_action_needed:
            message.status, message.next_attempt_at = "held", None
            message.digest_due_at = next_digest_at(now)
        db.session.add(message)
        made.append(note)
    db.session.flush()
    return made


# --- the notification centre -------------------------------------------------------------

def unread_count(user: User) -> int:
    return db.session.execute(db.select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def list_notifications(user: User, *, unread_only: bool = False, page: int = 1,
                       per_page: int = 25) -> tuple[list[Notification], int]:
    """One page of the user's notifications, newest first, and how many there are in all."""
    if page < 1 or not 1 <= per_page <= 100:
        raise Invalid("bad_page", "page starts at 1 and per_page is 1 to 100.")
    where = [Notification.user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = db.session.execute(db.select(func.count()).select_from(Notification).where(*where)).scalar_one()
    rows = db.session.execute(db.select(Notification).where(*where)
                              .order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return list(rows), total


def get_notification(user: User, notification_id: int) -> Notification:
    """The user's own notification (anyone else's is as unknown as a missing one)."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound("unknown_notification", f"You have no notification {notification_id}.")
    return note


def mark_read(user: User, notification_id: int) -> Notification:
    note = get_notification(user, notification_id)
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.flush()
    return note


def mark_all_read(user: User) -> int:
    """Mark every unread notification read; answers how many were marked."""
    result = db.session.execute(
        db.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now()).execution_options(synchronize_session=False))
    db.session.flush()
    db.session.expire_all()
    return result.rowcount or 0


# --- preferences ---------------------------------------------------------------------------

def preferences(user: User) -> Preference:
    """The user's settings (defaults, not yet stored, when they never chose)."""
    pref = db.session.get(Preference, user.id)
    return pref if pref is not None else Preference(user_id=user.id, digest_action_needed=False)


def set_preferences(user: User, *, digest_action_needed: bool) -> Preference:
    """Choose a daily digest for action-needed e-mails, or one e-mail each. Turning the digest
    off sends what it was holding at once."""
    pref = db.session.get(Preference, user.id)
    if pref is None:
        pref = Preference(user_id=user.id)
        db.session.add(pref)
    pref.digest_action_needed = bool(digest_action_needed)
    pref.updated_at = clock.now()
    if not pref.digest_action_needed:
        db.session.execute(
            db.update(OutboxMessage).where(OutboxMessage.user_id == user.id, OutboxMessage.status == "held")
            .values(status="pending", next_attempt_at=clock.now(), digest_due_at=None)
            .execution_options(synchronize_session=False))
    db.session.flush()
    return pref
