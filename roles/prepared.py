"""The gate's two hot statements, compiled once per dialect and run on the driver's cursor.

A check reads one small statement; SQLAlchemy's per-execution work (the execution context,
the result object, row processing) costs more than the statement does, so the gate compiles
its statements once and hands them to the DBAPI cursor itself, then applies the columns' own
result processing (the UTC datetimes) to the few rows that come back. The statement is still
built with SQLAlchemy Core (one definition, both databases).

On PostgreSQL, psycopg prepares a statement on the server from its fifth use on a connection;
the gate's statements bind only the user (or the token and the username), so the server keeps
one generic plan and plans nothing per check. psycopg forgets its prepared statements when a
transaction on the connection is rolled back (a commit keeps them).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Prepared:
    """A Core statement, compiled on first use per dialect, run straight on a DBAPI connection."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, list]] = {}

    def _for(self, dialect) -> tuple[str, tuple[str, ...] | None, list]:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            form = self.statement.compile(dialect=dialect)
            processors = []
            for i, column in enumerate(self.statement.selected_columns):
                process = column.type.dialect_impl(dialect).result_processor(dialect, None)
                if process is not None:
                    processors.append((i, process))
            positional = tuple(form.positiontup) if form.positiontup else None
            compiled = self._compiled[dialect.name] = (form.string, positional, processors)
        return compiled

    def rows(self, driver_connection, dialect, params: Mapping[str, Any]) -> list[tuple]:
        """Run on ``driver_connection`` (the DBAPI connection under the session's, to see its
        transaction, or one of the pool's) with ``params`` by name."""
        sql, positional, processors = self._for(dialect)
        cursor = driver_connection.cursor()
        try:
            cursor.execute(sql, [params[name] for name in positional] if positional else params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not processors:
            return rows
        out = []
        for row in rows:
            row = list(row)
            for i, process in processors:
                if row[i] is not None:  # NULL stays None (the outer joins' empty columns)
                    row[i] = process(row[i])
            out.append(tuple(row))
        return out
