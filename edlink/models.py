"""Identity, the staff directory, links, API tokens and the organisation tree."""
from __future__ import annotations

import datetime as _dt
import secrets
from typing import Any

from flask.globals import _cv_request
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edlink import clock
from edlink.extensions import db
from edlink.types import UTCDateTime

ORG_KINDS = ("state", "lea", "school", "nonpublic", "early_childhood")
SITE_KINDS = ("school", "nonpublic", "early_childhood")
STAFF_STATUSES = ("active", "pending_hr", "leave", "terminated")


class Org(db.Model):
    """A node of the organisation tree: the state, a school system (LEA), or a site.

    ``parent`` is the administrative parent (state → LEA → school). Nonpublic schools and
    early-childhood centres carry ``served_by``: the LEA that serves them, under which they are
    grouped for access.
    """

    __tablename__ = "org"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    served_by_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Org | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    served_by: Mapped[Org | None] = relationship(remote_side=[id], foreign_keys=[served_by_id])

    @property
    def is_site(self) -> bool:
        return self.kind in SITE_KINDS

    @property
    def lea(self) -> Org | None:
        """The school system this org belongs to or is served by (None for the state)."""
        if self.kind == "lea":
            return self
        if self.served_by is not None:
            return self.served_by
        if self.parent is not None and self.parent.kind == "lea":
            return self.parent
        return None

    def __repr__(self) -> str:
        return f"<Org {self.code} {self.kind}>"


class User(UserMixin, db.Model):
    """A person as the identity provider knows them, keyed by (issuer, subject)."""

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_account_issuer_subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(150), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    last_login_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    credential: Mapped[LocalCredential | None] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot sign in
        return not self.disabled

    @property
    def active_link(self) -> Link | None:
        return db.session.execute(
            db.select(Link).where(Link.user_id == self.id, Link.ended_at.is_(None))
        ).scalar_one_or_none()

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LocalCredential(db.Model):
    """The built-in provider's password (hashed with argon2id) and lock-out counters."""

    __tablename__ = "local_credential"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    changed_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    user: Mapped[User] = relationship(back_populates="credential")


class ApiToken(db.Model):
    """A personal API token for scripts. Only its SHA-256 is stored; it is shown once."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def usable_at(self, now: _dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class StaffRecord(db.Model):
    """A staff directory entry (the eScholar staff-ID analogue), kept by data managers."""

    __tablename__ = "staff_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(10), unique=True)
    employee_number: Mapped[str] = mapped_column(String(8), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    lea_id: Mapped[int] = mapped_column(ForeignKey("org.id"), index=True)
    staff_type: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(20))
    username: Mapped[str | None] = mapped_column(String(150))
    # lower-cased, trimmed username: unique, and what links compare against
    username_key: Mapped[str | None] = mapped_column(String(150), unique=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    lea: Mapped[Org] = relationship()
    sites: Mapped[list[Org]] = relationship(secondary="staff_site", order_by="Org.code")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def site_codes(self) -> str:
        return ";".join(site.code for site in self.sites)


class StaffSite(db.Model):
    __tablename__ = "staff_site"
    staff_record_id: Mapped[int] = mapped_column(ForeignKey("staff_record.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), primary_key=True)


class StaffChange(db.Model):
    """One field of a staff record changed: what, from, to, who, when, how. Never updated."""

    __tablename__ = "staff_change"
    __table_args__ = (Index("ix_staff_change_record_time", "staff_record_id", "changed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_record_id: Mapped[int] = mapped_column(ForeignKey("staff_record.id"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source: Mapped[str] = mapped_column(String(20))  # import | page | api | cli | demo
    batch: Mapped[str | None] = mapped_column(String(40))  # the import run that made it

    changed_by: Mapped[User | None] = relationship()


class Link(db.Model):
    """A user's username linked to a staff record. At most one active per user and per record."""

    __tablename__ = "staff_link"
    __table_args__ = (
        Index("uq_staff_link_active_user", "user_id", unique=True,
              sqlite_where=db.text("ended_at IS NULL"), postgresql_where=db.text("ended_at IS NULL")),
        Index("uq_staff_link_active_record", "staff_record_id", unique=True,
              sqlite_where=db.text("ended_at IS NULL"), postgresql_where=db.text("ended_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    staff_record_id: Mapped[int] = mapped_column(ForeignKey("staff_record.id"))
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ended_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()
    staff_record: Mapped[StaffRecord] = relationship()


class CacheEpoch(db.Model):
    """A counter per cached structure, bumped in the transaction that changes what it caches.

    Processes keep the org tree and the role catalog in memory and compare the epoch they built
    it at with this row (read along with the grants on every fresh check), so a change made in
    one process is seen by every other on its next check. ``gate`` covers the org tree and the
    catalog.
    """

    __tablename__ = "cache_epoch"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def bump_epoch(name: str = "gate") -> None:
    """Invalidate every process's cache of ``name`` when the current transaction commits."""
    # a fresh random value rather than +1: a copy built inside a transaction that then rolled
    # back can never match a value another transaction commits
    value = secrets.randbits(31)
    table = CacheEpoch.__table__
    done = db.session.execute(table.update().where(table.c.name == name).values(value=value)).rowcount
    if not done:
        db.session.execute(table.insert().values(name=name, value=value))
    ctx = _cv_request.get(None)  # this request re-reads the epoch (and so its copies) next time
    if ctx is not None:
        ctx.__dict__.pop("edlink_gate_memo", None)


def jsonable(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


_ = JSON  # re-exported for other packages' models
