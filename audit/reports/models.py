"""Stored report runs (My Reports): a background run's request, progress and finished file."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import User
from edlink.types import UTCDateTime

RUN_STATUSES = ("queued", "running", "done", "failed")


class ReportRun(db.Model):
    """One report asked for in the background: who, which report with which parameters and format;
    how far it got (``progress`` of ``total`` rows); the file once done; kept until ``expires_at``."""

    __tablename__ = "report_run"
    __table_args__ = (Index("ix_report_run_requester_created", "requester_id", "created_at"),
                      Index("ix_report_run_status", "status", "id"),
                      Index("ix_report_run_expires", "expires_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    format: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int | None] = mapped_column(Integer)
    scope: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(200))
    mimetype: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    started_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime())

    requester: Mapped[User] = relationship()

    __audit_type__ = "report_run"

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.total:
            return 0
        return min(int(self.progress * 100 / self.total), 99)
