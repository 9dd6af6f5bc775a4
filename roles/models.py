"""Grants: a role held by a user at an org, with its whole life kept."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.types import UTCDateTime

GRANT_STATUSES = ("active", "suspended", "revoked", "expired")
GRANT_SOURCES = ("request", "tas_import", "bootstrap", "review", "demo")


class Grant(db.Model):
    __tablename__ = "grant"
    __table_args__ = (Index("ix_grant_user_status", "user_id", "status"),
                      Index("ix_grant_org_role", "org_id", "role_code"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role_code: Mapped[str] = mapped_column(String(60))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    starts_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ends_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(20))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    org: Mapped[Org] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    def in_force(self, at: _dt.datetime) -> bool:
        return (self.status == "active" and self.starts_at <= at
                and (self.ends_at is None or self.ends_at > at))
