"""The gate's two hot statements, compiled once per dialect and run on the driver's cursor.

A check reads one small statement; SQLAlchemy's per-execution work (the execution context,
the result object, row processing) costs more than the statement does, so the gate compiles
its statements once and hands them to the DBAPI cursor itself, then applies the columns' own
result processing (the UTC datetimes) to the few rows that come back. The statement is still
built with SQLAlchemy Core (one definition, both databases).

On PostgreSQL, psycopg prepares a statement on the server from its fifth use on a connection;
the gate's statements bind only the user (or the token and the username), so the server keeps
one generic plan and plans nothing per check. psycopg forgets its prepared statements when a
transaction on the connection is rolled back (a commit keeps them), and then deallocates every
prepared statement of the connection on the server.

:meth:`Prepared.rows_idle` is for a statement run outside any transaction (the authz check's
lean path): on PostgreSQL it goes straight to libpq as a named prepared statement of its own
(psycopg's cursor costs about as much client time as the round trip), prepared on a connection
the first time the server says it does not know it (a new connection, or after psycopg's
deallocation). Outside a transaction that refusal aborts nothing.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

_UNKNOWN_STATEMENT = b"26000"  # invalid_sql_statement_name: not prepared on this connection


class Prepared:
    """A Core statement, compiled on first use per dialect, run straight on a DBAPI connection."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, list]] = {}
        self._libpq: tuple[bytes, bytes, tuple[str, ...]] | None = None

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

    def _for_libpq(self, dialect) -> tuple[bytes, bytes, tuple[str, ...]]:
        """The statement with PostgreSQL's own placeholders ($1, $2...), its server-side name
        (from its text, so two statements never share one) and the parameters' order."""
        if self._libpq is None:
            form = self.statement.compile(dialect=type(dialect)(paramstyle="numeric_dollar"))
            sql = form.string.encode("utf-8")
            name = b"edlink_" + hashlib.sha256(sql).hexdigest()[:16].encode("ascii")
            self._libpq = (name, sql, tuple(form.positiontup or ()))
        return self._libpq

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
        return _processed(rows, processors)

    def rows_idle(self, driver_connection, dialect, params: Mapping[str, Any]) -> list[tuple]:
        """Run outside any transaction (one statement sees one instant) on a connection of the
        pool that is in none: on PostgreSQL through libpq, opening no transaction (no BEGIN and
        ROLLBACK round trips); on SQLite a SELECT opens none either.

        On PostgreSQL the values are psycopg's own, without the columns' result processing:
        an instant (timestamptz) is an aware datetime in the session's time zone, which compares
        and subtracts with ``clock.now()`` exactly as its UTC form would."""
        if dialect.name != "postgresql":
            return self.rows(driver_connection, dialect, params)
        from psycopg import errors, pq
        from psycopg.adapt import PyFormat, Transformer

        pgconn = driver_connection.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            raise RuntimeError("rows_idle needs a connection outside any transaction")
        name, sql, order = self._for_libpq(dialect)
        transformer = Transformer(driver_connection)
        values = transformer.dump_sequence([params[key] for key in order], [PyFormat.TEXT] * len(order))
        result = pgconn.exec_prepared(name, values)
        if (result.status == pq.ExecStatus.FATAL_ERROR
                and result.error_field(pq.DiagnosticField.SQLSTATE) == _UNKNOWN_STATEMENT):
            made = pgconn.prepare(name, sql)
            if made.status != pq.ExecStatus.COMMAND_OK:
                raise errors.error_from_result(made, encoding=driver_connection.info.encoding)
            result = pgconn.exec_prepared(name, values)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise errors.error_from_result(result, encoding=driver_connection.info.encoding)
        try:
            transformer.set_pgresult(result)
            return transformer.load_rows(0, result.ntuples, tuple)
        finally:
            result.clear()


def _processed(rows, processors) -> list[tuple]:
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
