"""The dispatcher: deliver pending e-mails exactly once, retrying with exponential backoff.

A message is claimed before it is sent: one UPDATE moves it from ``pending`` (and due) to
``sending`` with a fresh lease token and a lease deadline, and commits. Only the dispatcher
whose UPDATE changed the row sends it; a second dispatcher running at the same time claims a
different row (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` in the sub-select) or none (the UPDATE
re-checks the status). The outcome is written back under the same token.

A claim whose lease runs out (its dispatcher died between claiming and writing the outcome)
is claimed again; the message keeps its Message-ID so a receiver can recognise the one case in
which the server may have accepted it before the dispatcher died. A live dispatcher never
loses its lease: SMTP_TIMEOUT_SECONDS is far below MAIL_LEASE_SECONDS.

The dispatcher is its own transaction boundary: it commits each claim and each outcome.
"""
from __future__ import annotations

import datetime as _dt
import logging
import uuid
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import and_, or_

from edlink import clock
from edlink.extensions import db
from notifications.digest import send_due_digests
from notifications.mailer import Failure, Mailer
from notifications.models import DeliveryAttempt, OutboxMessage

log = logging.getLogger(__name__)


@dataclass
class DispatchResult:
    digests: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> _dt.timedelta:
    """Wait after the ``attempts``-th failure: base, 2 x base, 4 x base, ... capped."""
    base = int(current_app.config["MAIL_RETRY_BASE_SECONDS"])
    cap = int(current_app.config["MAIL_RETRY_MAX_SECONDS"])
    return _dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _due(now: _dt.datetime):
    return or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.leased_until < now))


def claim_next() -> tuple[int, str] | None:
    """Claim the next due message under a new lease and commit; (id, token), or None."""
    now = clock.now()
    pick = (db.select(OutboxMessage.id).where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    token = uuid.uuid4().hex
    lease = _dt.timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    claimed = db.session.execute(
        db.update(OutboxMessage).where(OutboxMessage.id == pick.scalar_subquery(), _due(now))
        .values(status="sending", lease_token=token, leased_until=now + lease,
                attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id).execution_options(synchronize_session=False)).scalar_one_or_none()
    db.session.commit()
    return None if claimed is None else (claimed, token)


def _finish(message_id: int, token: str, attempt: int, failure: Failure | None) -> str:
    """Write the outcome of one attempt under its lease token; answers the new status."""
    now = clock.now()
    if failure is None:
        status, values = "sent", {"sent_at": now, "next_attempt_at": None}
    elif failure.permanent or attempt >= int(current_app.config["MAIL_MAX_ATTEMPTS"]):
        status, values = "failed", {"last_error": failure.error, "next_attempt_at": None}
    else:
        status, values = "pending", {"last_error": failure.error, "next_attempt_at": now + backoff(attempt)}
    updated = db.session.execute(
        db.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.lease_token == token)
        .values(status=status, lease_token=None, leased_until=None, **values)
        .execution_options(synchronize_session=False)).rowcount
    if not updated:
        log.warning("outbox message %s: lease lost before its outcome (%s) was written", message_id, status)
    db.session.add(DeliveryAttempt(message_id=message_id, attempt=attempt, at=now,
                                   outcome="retry" if status == "pending" else status,
                                   error=None if failure is None else failure.error))
    db.session.commit()
    return status


def deliver(limit: int | None = None) -> DispatchResult:
    """Send due messages until none is due, ``limit`` were tried, or the server is down."""
    result = DispatchResult()
    limit = int(current_app.config["MAIL_BATCH_SIZE"]) if limit is None else limit
    mailer = Mailer(current_app.config)
    try:
        for _ in range(limit):
            claim = claim_next()
            if claim is None:
                break
            message_id, token = claim
            message = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.id == message_id)
                                         .execution_options(populate_existing=True)).scalar_one()
            failure = mailer.send(message)
            status = _finish(message_id, token, message.attempts, failure)
            result.sent += status == "sent"
            result.failed += status == "failed"
            result.retrying += status == "pending"
            if failure is not None and failure.server_down:
                break
    finally:
        mailer.close()
    return result


def dispatch() -> dict[str, int]:
    """The ``notifications.dispatch`` job: build due daily digests, then deliver what is due."""
    digests = send_due_digests()
    result = deliver()
    result.digests = digests
    return asdict(result)
