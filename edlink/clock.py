"""The one source of time.

Everything that needs "now" calls :func:`now`; tests and the job runner move time with
:func:`set_now` / :func:`frozen` instead of sleeping. Times are timezone-aware UTC.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable, Iterator

UTC = _dt.UTC

_override: Callable[[], _dt.datetime] | None = None


def _system_now() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def now() -> _dt.datetime:
    """The current instant, aware and in UTC."""
    return (_override or _system_now)()


def today() -> _dt.date:
    return now().date()


def set_now(value: _dt.datetime | Callable[[], _dt.datetime] | None) -> None:
    """Pin the clock to an instant (or a callable), or give it back to the system with None."""
    global _override
    if value is None:
        _override = None
    elif callable(value):
        _override = value
    else:
        fixed = as_utc(value)
        _override = lambda: fixed  # noqa: E731


def advance(delta: _dt.timedelta) -> _dt.datetime:
    """Move a pinned clock forward (pins it first if it was running freely)."""
    moved = now() + delta
    set_now(moved)
    return moved


@contextlib.contextmanager
def frozen(value: _dt.datetime) -> Iterator[None]:
    previous = _override
    set_now(value)
    try:
        yield
    finally:
        globals()["_override"] = previous


def as_utc(value: _dt.datetime) -> _dt.datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso(text: str) -> _dt.datetime:
    """Parse an ISO 8601 instant (a date alone means its midnight UTC)."""
    text = text.strip()
    if len(text) == 10:
        return _dt.datetime.combine(_dt.date.fromisoformat(text), _dt.time(), UTC)
    return as_utc(_dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
