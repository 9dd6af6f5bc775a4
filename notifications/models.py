"""The notifications tables: in-app notifications, the e-mail outbox, delivery attempts and
preferences. Rows are written in the transaction of the action they report."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import User
from edlink.types import UTCDateTime

# Outbox statuses. pending: waiting for (another) attempt; sending: claimed by a dispatcher
# under a lease; sent; failed: given up (last_error says why); skipped: never sendable (no
# address); held: waiting for the recipient's daily digest; digested: went out in a digest.
MAIL_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "held", "digested")


class Notification(db.Model):
    """An in-app notification: what the notification centre lists."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_user_created", "user_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    event: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside EdLink
    action_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    read_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class OutboxMessage(db.Model):
    """One e-mail to one recipient, rendered when the action happened, sent by the dispatcher."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_notification_outbox_user_status", "user_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    event: Mapped[str] = mapped_column(String(60))
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # the Message-ID header
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    lease_token: Mapped[str | None] = mapped_column(String(32))
    leased_until: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    digest_due_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("notification_outbox.id"))

    user: Mapped[User] = relationship()
    notification: Mapped[Notification | None] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id")


class DeliveryAttempt(db.Model):
    """One try at handing a message to the mail server, and how it ended."""

    __tablename__ = "notification_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("notification_outbox.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    outcome: Mapped[str] = mapped_column(String(10))  # sent | retry | failed
    error: Mapped[str | None] = mapped_column(Text)

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_log")


class Preference(db.Model):
    """A person's notification settings (no row: the defaults)."""

    __tablename__ = "notification_preference"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    digest_action_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
