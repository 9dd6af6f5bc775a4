"""What state administrators see of the e-mail outbox: failed and retrying messages with their
last error and every attempt; and sending a failed message again."""
from __future__ import annotations

from sqlalchemy import and_, func, or_

from edlink import clock
from edlink.errors import Conflict, Invalid, NotFound
from edlink.extensions import db
from notifications.models import MAIL_STATUSES, OutboxMessage

VIEWS = ("problems", "all") + MAIL_STATUSES


def _where(view: str):
    if view == "problems":  # failed, or waiting for another try after an error, or in flight
        return [or_(OutboxMessage.status.in_(("failed", "sending")),
                    and_(OutboxMessage.status == "pending", OutboxMessage.attempts > 0))]
    if view == "all":
        return []
    if view in MAIL_STATUSES:
        return [OutboxMessage.status == view]
    raise Invalid("bad_view", f"Show one of: {', '.join(VIEWS)}.")


def list_outbox(view: str = "problems", page: int = 1, per_page: int = 25) -> tuple[list[OutboxMessage], int]:
    where = _where(view)
    total = db.session.execute(db.select(func.count()).select_from(OutboxMessage).where(*where)).scalar_one()
    rows = db.session.execute(db.select(OutboxMessage).where(*where)
                              .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                              .limit(per_page).offset((max(page, 1) - 1) * per_page)).scalars().all()
    return list(rows), total


def counts() -> dict[str, int]:
    rows = db.session.execute(db.select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: n for status, n in rows}


def get_message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("unknown_message", f"There is no outbox message {message_id}.")
    return message


def retry(message_id: int) -> OutboxMessage:
    """Give a failed message a fresh round of attempts (after the mail problem is fixed)."""
    message = get_message(message_id)
    if message.status != "failed":
        raise Conflict("not_failed", "Only a failed message can be sent again.")
    message.status, message.attempts, message.next_attempt_at = "pending", 0, clock.now()
    db.session.flush()
    return message
