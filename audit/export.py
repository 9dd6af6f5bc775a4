"""Exports of a filtered view of the trail: CSV and JSON lines, streamed.

The rows are read in keyset batches (audit.query.iter_events) and written out one by one, so a
million events never sit in memory. Each export is itself an event (``report.generated``),
recorded in the caller's transaction before the first byte is sent.

Both formats carry ``prev_hash`` and ``hash``: with the audit key, an auditor can check an
exported event against the chain (see audit.chain for the canonical serialisation).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import audit
from audit.query import Filters, Scope, iter_events
from edlink import clock
from edlink.errors import Invalid

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
COLUMNS = ("seq", "occurred_at", "action", "actor", "actor_id", "target_type", "target_id", "org",
           "details", "prev_hash", "hash")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def check_format(fmt: str | None) -> str:
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise Invalid("bad_format", f"format must be one of {', '.join(FORMATS)}, not {fmt!r}.",
                      fields={"format": ["unknown format"]})
    return fmt


def _record(row) -> dict[str, Any]:
    return {"seq": row.seq, "occurred_at": clock.as_utc(row.occurred_at).isoformat(), "action": row.action,
            "actor": row.actor, "actor_id": row.actor_id, "target_type": row.target_type,
            "target_id": row.target_id, "org": row.org_code, "details": row.details or {},
            "prev_hash": row.prev_hash, "hash": row.hash}


def _cell(value: Any) -> Any:
    """Spreadsheets run cells that start like a formula; keep such text inert."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _csv(rows: Iterator) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for n, row in enumerate(rows, 1):
        record = _record(row)
        record["details"] = json.dumps(record["details"], sort_keys=True, ensure_ascii=False)
        writer.writerow([_cell(record[c]) if c in ("actor", "target_id", "action") else record[c]
                         for c in COLUMNS])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _jsonl(rows: Iterator) -> Iterator[str]:
    chunk: list[str] = []
    for row in rows:
        chunk.append(json.dumps(_record(row), ensure_ascii=False, sort_keys=True))
        if len(chunk) == 500:
            yield "\n".join(chunk) + "\n"
            chunk = []
    if chunk:
        yield "\n".join(chunk) + "\n"


def start_export(fmt: str, filters: Filters, scope: Scope, reader) -> tuple[str, str, Iterator[str]]:
    """Record the ``report.generated`` event and return (filename, mimetype, body chunks).

    The body is a generator: iterate it inside the request (``stream_with_context``) or the app
    context (CLI), after the caller commits the event.
    """
    fmt = check_format(fmt)
    audit.record("report.generated", reader, ("report", "audit_trail"), None,
                 {"report": "audit_trail", "format": fmt, "filters": filters.as_args(),
                  "scope": "all" if scope.everything else "limited"})
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    body = _csv if fmt == "csv" else _jsonl
    return f"edlink-audit-{stamp}.{fmt}", FORMATS[fmt], body(iter_events(filters, scope))
