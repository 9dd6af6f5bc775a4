"""The audit event table. Append-only: events are added, never changed or removed."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from edlink.extensions import db
from edlink.types import UTCDateTime


class AuditEvent(db.Model):
    """One thing that happened. ``seq`` is strictly increasing with no gaps; ``hash`` and
    ``prev_hash`` carry the keyed hash chain (see audit.chain)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_action_time", "action", "occurred_at"),
        Index("ix_audit_event_actor_action", "actor_id", "action", "occurred_at"),
        Index("ix_audit_event_target", "target_type", "target_id"),
    )
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(Integer)  # user id; no FK: the trail outlives rows
    actor: Mapped[str] = mapped_column(String(150))  # username, or "system:<what>"
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(100))
    org_code: Mapped[str | None] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "occurred_at": self.occurred_at.isoformat(), "action": self.action,
            "actor": self.actor, "actor_id": self.actor_id, "target_type": self.target_type,
            "target_id": self.target_id, "org": self.org_code, "details": self.details or {},
            "hash": self.hash,
        }


class AppendOnlyError(RuntimeError):
    """Something tried to change or remove an audit event (always a bug)."""


def _refuse(what: str) -> AppendOnlyError:
    return AppendOnlyError(f"audit_event is append-only: {what} refused")


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target: AuditEvent) -> None:
    raise _refuse(f"changing event {target.seq}")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditEvent) -> None:
    raise _refuse(f"deleting event {target.seq}")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    """``session.execute(update(AuditEvent) ...)`` / ``delete(...)`` bypass the mapper events."""
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == AuditEvent.__tablename__:
            raise _refuse("UPDATE" if state.is_update else "DELETE")


from audit.reports import models as _report_models  # noqa: E402,F401  (report_run, for metadata)
