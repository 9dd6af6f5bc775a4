"""Bulk loading into the migrated schema, past the ORM: COPY on PostgreSQL, executemany on SQLite.

Rows carry explicit ids; times are given as integer microseconds since the epoch (UTC) and
written in the form the application itself stores (edlink.types.UTCDateTime): on SQLite the
text ``YYYY-MM-DD HH:MM:SS.ffffff``, on PostgreSQL a ``timestamptz``.
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
PG_URL = os.environ.get("EDLINK_BENCH_PG_URL") or os.environ.get(
    "EDLINK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def instant(us: int) -> _dt.datetime:
    return EPOCH + _dt.timedelta(microseconds=us)


class Loader:
    """One transaction on one raw driver connection; ``commit()`` ends it."""

    def __init__(self, engine: Engine):
        self.dialect = engine.dialect.name
        self.proxy = engine.raw_connection()
        self.conn = self.proxy.driver_connection
        if self.dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"no bulk loader for {self.dialect}")

    def stamp(self, us: int | None) -> str | None:
        """A time as this database's column takes it."""
        if us is None:
            return None
        text_ = instant(us).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text_ if self.dialect == "sqlite" else text_ + "+00"

    def empty(self, table: str) -> bool:
        cur = self.conn.cursor()
        try:
            cur.execute(f'SELECT 1 FROM "{table}" LIMIT 1')
            return cur.fetchone() is None
        finally:
            cur.close()

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        """Write ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
        cols = ", ".join(f'"{c}"' for c in columns)
        n = 0
        cur = self.conn.cursor()
        try:
            if self.dialect == "postgresql":
                with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        n += 1
            else:
                marks = ", ".join("?" * len(columns))
                for chunk in _chunks(rows, 50_000):
                    cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', chunk)
                    n += len(chunk)
        finally:
            cur.close()
        return n

    def reset_ids(self, *tables: str) -> None:
        """After explicit ids, point PostgreSQL's serial sequences past them (SQLite needs nothing)."""
        if self.dialect != "postgresql":
            return
        cur = self.conn.cursor()
        try:
            for table in tables:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)')
        finally:
            cur.close()

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.proxy.close()


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def pg_answers(url: str = PG_URL) -> bool:
    try:
        import psycopg
        psycopg.connect(url, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def _driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@contextmanager
def scratch_database(kind: str, label: str = "bench") -> Iterator[str]:
    """A fresh, empty database for one benchmark (an SQLite file in a temporary folder, or a
    PostgreSQL database of its own at EDLINK_BENCH_PG_URL); dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"edlink-{label}-") as folder:
            yield "sqlite:///" + os.path.join(folder, "edlink.db")
        return
    name = f"edlink_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_driver_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(_driver_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def migrated_app(url: str, instance: str | None = None, **config):
    """An app on ``url`` with the schema built by the real migrations (``flask_migrate.upgrade``)."""
    from flask_migrate import upgrade

    from edlink import create_app
    from edlink.extensions import db
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance or tempfile.gettempdir(), **config})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


def add_database_option(parser) -> None:
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both",
                        help="both: SQLite, and PostgreSQL when it answers at EDLINK_BENCH_PG_URL")


def database_kinds(choice: str) -> list[str] | None:
    """The databases to measure for ``--database choice`` (PostgreSQL only when it answers, saying
    so when skipped); None when PostgreSQL alone was asked for and does not answer."""
    import sys
    kinds = ["sqlite", "postgresql"] if choice == "both" else [choice]
    if "postgresql" in kinds and not pg_answers():
        if choice == "postgresql":
            print("PostgreSQL does not answer at EDLINK_BENCH_PG_URL", file=sys.stderr)
            return None
        print("postgresql  skipped: PostgreSQL does not answer")
        kinds.remove("postgresql")
    return kinds
