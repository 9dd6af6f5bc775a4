"""Roles' tables: the catalog as applied by ``edlink catalog sync``, and grants with their whole life."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.models import Org, User
from edlink.types import UTCDateTime

GRANT_STATUSES = ("active", "suspended", "revoked", "expired")
GRANT_SOURCES = ("request", "tas_import", "bootstrap", "review", "demo")


class CatalogApplication(db.Model):
    __tablename__ = "catalog_application"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. {"keycloak": {"kind", "client"}}
    retired_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())


class CatalogPermission(db.Model):
    __tablename__ = "catalog_permission"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    retired_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())


class CatalogRole(db.Model):
    """A role as last applied. A role removed from catalog.toml is retired, never deleted."""

    __tablename__ = "catalog_role"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    application: Mapped[str] = mapped_column(String(60))
    # everything else the catalog says about the role (scope, approval, implies, permissions,
    # constraints, tas_codes), as the canonical dict roles.catalog.role_dict produces
    definition: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    retired_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())


class Grant(db.Model):
    __tablename__ = "grant"
    __table_args__ = (Index("ix_grant_user_status", "user_id", "status"),
                      Index("ix_grant_org_role", "org_id", "role_code"),
                      Index("ix_grant_status_role", "status", "role_code"))
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
    # the last change of status (suspension, restoration, expiry, revocation): when, by whom, why
    status_changed_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    status_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    org: Mapped[Org] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    status_changed_by: Mapped[User | None] = relationship(foreign_keys=[status_changed_by_id])

    def in_force(self, at: _dt.datetime) -> bool:
        return (self.status == "active" and self.starts_at <= at
                and (self.ends_at is None or self.ends_at > at))


class ProvisioningTask(db.Model):
    """An outbox row: make Keycloak agree with one grant's (user, role, org) — written in the
    transaction that changed the grant, carried out by the ``provisioning.push`` job."""

    __tablename__ = "provisioning_task"
    __table_args__ = (Index("ix_provisioning_task_due", "status", "next_attempt_at"),
                      Index("ix_provisioning_task_key", "user_id", "role_code", "org_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role_code: Mapped[str] = mapped_column(String(60))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    application: Mapped[str] = mapped_column(String(60))
    keycloak_role: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(40))        # what happened to the grant
    status: Mapped[str] = mapped_column(String(20), default="pending")   # pending | done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))  # assigned | removed
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    done_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())


_ = Boolean
