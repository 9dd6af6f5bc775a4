"""Access reviews (certification campaigns) and their items.

A review covers one application at one school system (LEA). When it starts, every active or
suspended grant of that application at an org the LEA covers becomes an item (a snapshot:
grants made later wait for the next review). Each item is certified (kept) or revoked
(removed) by a reviewer, or at the deadline by the configured outcome.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.types import UTCDateTime
from roles.models import Grant

REVIEW_STATUSES = ("open", "held", "closed")
ORIGINS = ("schedule", "coordinator")
DECISIONS = ("certify", "revoke")
OUTCOMES = ("keep", "remove", "recommendation")
# who settled an item: a reviewer, the deadline's configured outcome, or a state administrator
# closing a held review
DECIDED_VIA = ("reviewer", "deadline", "state_admin")


class AccessReview(db.Model):
    __tablename__ = "access_review"
    __table_args__ = (
        # one review open (or held) per school system and application at a time
        Index("uq_access_review_open", "lea_id", "application", unique=True,
              sqlite_where=db.text("status <> 'closed'"), postgresql_where=db.text("status <> 'closed'")),
        # the launch job starts one review per school system, application and period
        Index("uq_access_review_scheduled", "lea_id", "application", "period", unique=True,
              sqlite_where=db.text("origin = 'schedule'"), postgresql_where=db.text("origin = 'schedule'")),
        Index("ix_access_review_status_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    application: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(20))  # e.g. 2026-H2 (semiannual), 2026 (annual)
    origin: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    started_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    due_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)  # reminder points passed
    last_reminded_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    held_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())  # held and escalated
    hold_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))  # applied to undecided items at close
    close_comment: Mapped[str | None] = mapped_column(Text)

    lea: Mapped[Org] = relationship()
    started_by: Mapped[User | None] = relationship(foreign_keys=[started_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    items: Mapped[list[ReviewItem]] = relationship(back_populates="review", order_by="ReviewItem.id",
                                                   viewonly=True)

    __audit_type__ = "review"

    @property
    def label(self) -> str:
        return f"#{self.id} ({self.application} at {self.lea.code}, {self.period})"


class ReviewItem(db.Model):
    """One grant under review and what was decided about it."""

    __tablename__ = "review_item"
    __table_args__ = (UniqueConstraint("review_id", "grant_id"),
                      Index("ix_review_item_review_decision", "review_id", "decision"),
                      Index("ix_review_item_user", "user_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("access_review.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant.id"))
    # copied from the grant at the start, so the review reads the same whatever happens later
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role_code: Mapped[str] = mapped_column(String(60))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    grant_status_at_start: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(20))  # certify | revoke; None: undecided
    decided_via: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    # the helpers' recommendation when the item was decided (keep | remove) and why
    recommendation: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # set when the grant ended outside the review (revoked or expired elsewhere) before a decision
    ended_elsewhere: Mapped[str | None] = mapped_column(String(20))

    review: Mapped[AccessReview] = relationship(back_populates="items")
    grant: Mapped[Grant] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    org: Mapped[Org] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __audit_type__ = "review_item"
