"""Access requests and their approval stages, delegations, and confidentiality statements."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.types import UTCDateTime

REQUEST_STATUSES = ("pending", "approved", "denied", "cancelled", "expired")
STAGE_STATUSES = ("waiting", "open", "approved", "denied", "closed")


class AccessRequest(db.Model):
    """A person asks for a role at an org for themselves; it walks its stages in order."""

    __tablename__ = "access_request"
    __table_args__ = (
        Index("ix_access_request_requester_status", "requester_id", "status"),
        Index("ix_access_request_status_activity", "status", "last_activity_at"),
        Index("uq_access_request_pending", "requester_id", "role_code", "org_id", unique=True,
              sqlite_where=db.text("status = 'pending'"), postgresql_where=db.text("status = 'pending'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role_code: Mapped[str] = mapped_column(String(60))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    lea_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))  # whose approvers decide; None: state
    justification: Mapped[str] = mapped_column(Text)
    ends_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="pending")
    submitted_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_activity_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    outcome_reason: Mapped[str | None] = mapped_column(Text)  # denial reason, cancel / expiry note
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grant.id"))

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    org: Mapped[Org] = relationship(foreign_keys=[org_id])
    lea: Mapped[Org | None] = relationship(foreign_keys=[lea_id])
    stages: Mapped[list[RequestStage]] = relationship(back_populates="request", order_by="RequestStage.position")

    __audit_type__ = "request"

    def open_stage(self) -> RequestStage | None:
        return next((s for s in self.stages if s.status == "open"), None)


class RequestStage(db.Model):
    """One approval step: the holders of ``approver_role`` at ``approver_org`` decide it (resolved
    into StageApprover rows when it opens); ``at_state`` when it fell back to the state."""

    __tablename__ = "request_stage"
    __table_args__ = (UniqueConstraint("request_id", "position"),
                      Index("ix_request_stage_status_due", "status", "due_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_request.id"))
    position: Mapped[int] = mapped_column(Integer)
    approver_role: Mapped[str] = mapped_column(String(60))
    approver_org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    at_state: Mapped[bool] = mapped_column(default=False)  # no approver at the LEA: the state decides
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    opened_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    remind_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str | None] = mapped_column(Text)

    request: Mapped[AccessRequest] = relationship(back_populates="stages")
    approver_org: Mapped[Org | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
    approvers: Mapped[list[StageApprover]] = relationship(back_populates="stage")


class StageApprover(db.Model):
    """Who may decide an open stage, fixed when it opened (plus delegates and, once escalated,
    the state administrators, worked out when asked)."""

    __tablename__ = "stage_approver"
    stage_id: Mapped[int] = mapped_column(ForeignKey("request_stage.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True, index=True)

    stage: Mapped[RequestStage] = relationship(back_populates="approvers")
    user: Mapped[User] = relationship()


class Delegation(db.Model):
    """``delegate`` decides ``approver``'s stages from ``starts_on`` to ``ends_on`` (inclusive)."""

    __tablename__ = "delegation"
    __table_args__ = (Index("ix_delegation_delegate", "delegate_id", "starts_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    starts_on: Mapped[_dt.date]
    ends_on: Mapped[_dt.date]
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ended_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())

    approver: Mapped[User] = relationship(foreign_keys=[approver_id])
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id])

    def covers(self, day: _dt.date) -> bool:
        return self.ended_at is None and self.starts_on <= day <= self.ends_on


class Attestation(db.Model):
    """A signature of the confidentiality statement (a version of its text)."""

    __tablename__ = "attestation"
    __table_args__ = (Index("ix_attestation_user_time", "user_id", "signed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    statement_version: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    source_addr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class Statement(db.Model):
    """A published version of the confidentiality statement's text."""

    __tablename__ = "statement"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
