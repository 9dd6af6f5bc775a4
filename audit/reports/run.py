"""Running a report: check the format, the parameters and the scope, then answer it directly
(JSON, streamed CSV) or queue it as a background run for My Reports (audit.reports.myreports).

Background: Excel, PDF and Word always; JSON beyond ``EDLINK_REPORT_BACKGROUND_ROWS`` rows, and
any download from the pages beyond it; anything when the caller asks (``background=1``). CSV over
the API streams at any size; the Reports page's table shows any size a page at a time. Every run
is a ``report.generated`` event: a direct one in the request's transaction, a background one in
the transaction that stores its file.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

import audit
from audit.reports import registry
from audit.reports.formats import FORMATS, MIMETYPES, Meta, csv_chunks, json_document, json_rows
from edlink import clock
from edlink.errors import Invalid
from edlink.models import User

BACKGROUND_FORMATS = ("xlsx", "pdf", "docx")


@dataclass
class Direct:
    filename: str
    mimetype: str
    body: Any  # a dict (JSON) or an iterator of text chunks (CSV)


def check_format(fmt: str | None) -> str:
    fmt = (fmt or "json").strip().lower()
    if fmt not in FORMATS:
        raise Invalid("bad_format", f"format must be one of {', '.join(FORMATS)}, not {fmt!r}.",
                      fields={"format": ["unknown format"]})
    return fmt


def filters_of(params: dict) -> dict:
    return {k: v for k, v in params.items() if v not in (None, "")}


def filename(kind: registry.ReportKind, params: dict, fmt: str) -> str:
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    return f"{kind.code}-{kind.target_org(params) or 'all'}-{stamp}.{fmt}"


def record_generated(user: User, kind: registry.ReportKind, params: dict, fmt: str, rows: int,
                     run_id: int | None = None) -> None:
    details = {"report": kind.code, "format": fmt, "rows": rows, "filters": filters_of(params)}
    if run_id is not None:
        details["run"] = run_id
    audit.record("report.generated", user, ("report", kind.code), kind.target_org(params), details)


def threshold() -> int:
    return int(current_app.config["REPORT_BACKGROUND_ROWS"])


def start(user: User, code: str, args: Mapping[str, str], fmt: str | None = None, *,
          background: bool = False, for_page: bool = False):
    """Run report ``code`` for ``user`` with query ``args``: a :class:`Direct` answer, or the queued
    ReportRun. Raises Invalid / Forbidden / NotFound before anything is queued."""
    from audit.reports import myreports
    kind = registry.get(code)
    fmt = check_format(fmt)
    params = kind.parse(args)
    prepared = kind.prepare(user, params)  # the scope check, whatever happens next
    big = prepared.count > threshold()
    if background or fmt in BACKGROUND_FORMATS or (big and (fmt != "csv" or for_page)):
        close(prepared.rows)
        return myreports.queue(user, kind, params, fmt, prepared.count, prepared.scope)
    record_generated(user, kind, params, fmt, prepared.count)
    meta = Meta(kind.title, prepared.scope, clock.now(), user.username, filters_of(params), prepared.count)
    if fmt == "json":
        rows = list(json_rows(kind.columns, kind.extras, prepared.rows))
        return Direct(filename(kind, params, fmt), MIMETYPES[fmt], json_document(meta, kind.columns, rows))
    return Direct(filename(kind, params, fmt), MIMETYPES[fmt], csv_chunks(kind.columns, prepared.rows))


def page(user: User, code: str, args: Mapping[str, str], page_no: int, per_page: int) -> tuple[Any, list[tuple], Meta]:
    """One page of a report for the Reports page's table: (kind, rows, meta), recorded as a run."""
    from itertools import islice
    kind = registry.get(code)
    params = kind.parse(args)
    prepared = kind.prepare(user, params)
    rows = list(islice(prepared.rows, (page_no - 1) * per_page, page_no * per_page))
    close(prepared.rows)
    record_generated(user, kind, params, "page", prepared.count)
    meta = Meta(kind.title, prepared.scope, clock.now(), user.username, filters_of(params), prepared.count)
    return kind, rows, meta


def close(rows: Any) -> None:
    """Let go of a row generator that was not read to its end (its database cursor with it)."""
    if isinstance(rows, Iterator) and hasattr(rows, "close"):
        rows.close()
