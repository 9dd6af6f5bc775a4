"""Daily digests: action-needed e-mails held for a person who chose one digest a day.

``notify`` holds such a message (status ``held``) until the next DIGEST_HOUR in MAIL_TIMEZONE.
The dispatch job then gathers each person's due held messages into one digest e-mail. The
gathering UPDATE only takes rows still ``held``, so two dispatchers never put one message into
two digests: the second finds nothing and rolls its digest back.
"""
from __future__ import annotations

from flask import current_app

from edlink import clock
from edlink.extensions import db
from edlink.models import User
from notifications.events import absolute, render
from notifications.models import Notification, OutboxMessage


def _due_users(now) -> list[int]:
    return list(db.session.execute(
        db.select(OutboxMessage.user_id).where(OutboxMessage.status == "held", OutboxMessage.digest_due_at <= now)
        .group_by(OutboxMessage.user_id).order_by(OutboxMessage.user_id)).scalars())


def _digest_for(user: User, now) -> bool:
    from notifications.service import NO_ADDRESS, address_for, new_message_id
    address = address_for(user)
    digest = OutboxMessage(user_id=user.id, event="digest", to_address=address, subject="", body_text="",
                           body_html="", message_id=new_message_id(), status="pending", attempts=0,
                           next_attempt_at=now, created_at=now)
    if address is None:
        digest.status, digest.last_error, digest.next_attempt_at = "skipped", NO_ADDRESS, None
    db.session.add(digest)
    db.session.flush()
    taken = db.session.execute(
        db.update(OutboxMessage).where(OutboxMessage.user_id == user.id, OutboxMessage.status == "held",
                                       OutboxMessage.digest_due_at <= now)
        .values(status="digested", digest_id=digest.id)
        .returning(OutboxMessage.notification_id).execution_options(synchronize_session=False)).scalars().all()
    if not taken:
        return False
    notes = db.session.execute(db.select(Notification).where(Notification.id.in_(taken))
                               .order_by(Notification.created_at, Notification.id)).scalars().all()
    items = [{"title": n.title, "summary": n.summary, "due_at": n.due_at, "link_url": absolute(n.link)}
             for n in notes]
    rendered = render("digest", {
        "items": items, "recipient": user, "recipient_name": user.display_name or user.username,
        "event": "digest", "action_needed": True, "due_at": None, "link_url": absolute("/notifications"),
        "base_url": current_app.config["BASE_URL"], "preferences_url": absolute("/notifications/preferences")})
    digest.subject, digest.body_text, digest.body_html = rendered.subject[:300], rendered.text, rendered.html
    db.session.flush()
    return True


def send_due_digests() -> int:
    """Queue one digest e-mail per person whose held messages are due; answers how many."""
    now = clock.now()
    made = 0
    for user_id in _due_users(now):
        user = db.session.get(User, user_id)
        if _digest_for(user, now):
            db.session.commit()
            made += 1
        else:
            db.session.rollback()
    return made
