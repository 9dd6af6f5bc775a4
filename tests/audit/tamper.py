"""Tampering with the audit table as someone with the database owner's rights would.

The append-only triggers are put aside for the statements and restored in the same
transaction (PostgreSQL: ALTER TABLE ... DISABLE TRIGGER USER; SQLite: DROP TRIGGER and
CREATE it again from its stored SQL), so every test leaves the triggers in place.
"""
from __future__ import annotations

from sqlalchemy import text

import audit
from edlink.extensions import db


def dialect() -> str:
    return db.session.get_bind().dialect.name


def tamper(*statements: str, **params) -> None:
    """Run raw SQL statements on the audit table past its triggers, and commit."""
    db.session.rollback()
    conn = db.session.connection()
    if dialect() == "postgresql":
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        saved = []
    else:
        saved = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).all()
        assert saved, "the append-only triggers are not installed"
        for name, _sql in saved:
            conn.execute(text(f"DROP TRIGGER {name}"))
    for statement in statements:
        conn.execute(text(statement), params)
    if dialect() == "postgresql":
        conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    for _name, sql in saved:
        conn.execute(text(sql))
    db.session.commit()
    db.session.expire_all()


def renumber(where: str, delta: int) -> list[str]:
    """Statements moving the seq of the rows matching ``where`` by ``delta`` without unique clashes."""
    return [f"UPDATE audit_event SET seq = -(seq + ({delta})) WHERE {where}",
            "UPDATE audit_event SET seq = -seq WHERE seq < 0"]


def swap(a: int, b: int) -> list[str]:
    return [f"UPDATE audit_event SET seq = -1 WHERE seq = {a}",
            f"UPDATE audit_event SET seq = {a} WHERE seq = {b}",
            f"UPDATE audit_event SET seq = {b} WHERE seq = -1"]


def trail(n: int, start: int = 0) -> None:
    """Record and commit ``n`` events of varied shape."""
    for i in range(start, start + n):
        audit.record("test.event", "system:test" if i % 2 else "zoë «quoted \"name\"»",
                     ("thing", i) if i % 3 else None, "101" if i % 2 else None,
                     {"i": i, "nested": {"b": [1, 2.5, None], "a": "ünïcode \u2028"}} if i % 4 else {})
    db.session.commit()
