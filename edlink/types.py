"""Column types shared by every package."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from edlink.clock import as_utc


class UTCDateTime(TypeDecorator):
    """An instant stored as UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: _dt.datetime | None, dialect) -> _dt.datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: _dt.datetime | None, dialect) -> _dt.datetime | None:
        return None if value is None else as_utc(value)
