"""The audit trail: ``record(...)`` adds an event to the caller's transaction.

The event is flushed with the change it describes and committed (or rolled back) with it.
Appends are serialised (a transaction-scoped advisory lock on PostgreSQL, the write lock on
SQLite) so sequence numbers have no gaps and the hash chain never forks.
"""
from __future__ import annotations

import datetime as _dt
import decimal
from typing import Any

from flask import current_app
from sqlalchemy import func

from audit.chain import GENESIS, event_hash
from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db

ADVISORY_LOCK_KEY = 0x0ED11A0D17  # the audit chain's append lock on PostgreSQL


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, _dt.datetime):
        return clock.as_utc(value).isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _actor(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "anonymous"
    if isinstance(actor, str):
        return None, actor
    return actor.id, actor.username


def _target(target: Any) -> tuple[str | None, str | None]:
    if target is None:
        return None, None
    if isinstance(target, tuple):
        kind, ident = target
        return kind, None if ident is None else str(ident)
    kind = getattr(target, "__audit_type__", None) or target.__tablename__
    ident = getattr(target, "audit_id", None) or target.id
    return kind, str(ident)


def _org(org: Any) -> str | None:
    if org is None or isinstance(org, str):
        return org
    return org.code


def audit_key() -> bytes:
    return str(current_app.config["AUDIT_KEY"]).encode("utf-8")


_LOCK = f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"
_HEAD = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"


def _chain_head() -> tuple[int, str]:
    """Take the append lock (PostgreSQL; SQLite has one writer) and then read the chain's head,
    in the caller's transaction: (last seq, its hash), or (0, GENESIS) for an empty trail.

    Two statements on every append, sent straight through the driver on the session's own
    connection: the ORM's per-statement work would cost more than the rest of the append
    (bench/audit_append.py). The lock comes first, in a statement of its own, so the read that
    follows (a new snapshot under READ COMMITTED) sees the head the previous holder committed.
    """
    conn = db.session.connection()
    cursor = conn.connection.driver_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(_LOCK)
        cursor.execute(_HEAD)
        last = cursor.fetchone()
    finally:
        cursor.close()
    return (last[0], last[1]) if last else (0, GENESIS)


def record(action: str, actor: Any = None, target: Any = None, org: Any = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event to the current transaction and return it (flushed, not committed).

    ``actor``: a User, a label such as ``"system:cli"``, or None for an anonymous caller.
    ``target``: a model instance, a ``(type, id)`` pair, or None. ``org``: an Org or its code.
    """
    last_seq, last_hash = _chain_head()
    actor_id, actor_label = _actor(actor)
    target_type, target_id = _target(target)
    event = AuditEvent(
        seq=last_seq + 1, occurred_at=clock.now(), action=action,
        actor_id=actor_id, actor=actor_label, target_type=target_type, target_id=target_id,
        org_code=_org(org), details=_plain(details or {}),
        prev_hash=last_hash,
    )
    event.hash = event_hash(audit_key(), event.prev_hash, event)
    db.session.add(event)
    db.session.flush()
    return event


def count(action: str, *, actor_id: int | None = None, since: _dt.datetime | None = None) -> int:
    """How many events of an action (by an actor, since an instant) the trail holds."""
    query = db.select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    return db.session.execute(query).scalar_one()
