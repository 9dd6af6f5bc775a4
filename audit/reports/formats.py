"""Report formats: JSON and CSV here (streamed), Excel / PDF / Word in audit.reports.office.

Every writer takes the report's heading (:class:`Meta`), its columns and an iterable of row
tuples (the columns first, then the kind's extras), and calls ``progress(n)`` as rows go out so
a background run can show how far it got. Dates stay dates until the writer: ISO text in JSON
and CSV, real dates in Excel.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from audit.export import _cell
from edlink import clock

MIMETYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FORMATS = tuple(MIMETYPES)
CHUNK = 500
_FORMULA_START = frozenset("=+-@\t\r")

Progress = Callable[[int], None]


@dataclass
class Meta:
    title: str
    scope: str
    generated_at: _dt.datetime
    generated_by: str
    filters: dict[str, Any] = field(default_factory=dict)
    rows: int = 0

    def lines(self) -> list[tuple[str, str]]:
        out = [("Report", self.title), ("Scope", self.scope),
               ("Generated", clock.as_utc(self.generated_at).strftime("%Y-%m-%d %H:%M UTC")),
               ("Requested by", self.generated_by)]
        if self.filters:
            out.append(("Filters", ", ".join(f"{k}={v}" for k, v in self.filters.items())))
        out.append(("Rows", str(self.rows)))
        return out


def _noop(_n: int) -> None:
    return None


def text(value: Any) -> str:
    """A cell as text: dates in ISO form (a date-time to the minute, in UTC), None as empty."""
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return clock.as_utc(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return clock.as_utc(value).isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def json_rows(columns: tuple[str, ...], extras: tuple[str, ...], rows: Iterable[tuple],
              progress: Progress = _noop) -> Iterator[dict]:
    keys = columns + extras
    for n, row in enumerate(rows, 1):
        yield {k: (json_value(v) if k in extras else text(v)) for k, v in zip(keys, row, strict=True)}
        if n % CHUNK == 0:
            progress(n)


def json_document(meta: Meta, columns: tuple[str, ...], rows: list[dict]) -> dict:
    return {"report": meta.title, "scope": meta.scope, "generated_at": clock.as_utc(meta.generated_at).isoformat(),
            "generated_by": meta.generated_by, "filters": meta.filters, "columns": list(columns),
            "count": len(rows), "rows": rows}


def write_json(meta: Meta, kind, rows, progress: Progress = _noop) -> bytes:
    listed = list(json_rows(kind.columns, kind.extras, rows, progress))
    meta.rows = len(listed)
    return json.dumps(json_document(meta, kind.columns, listed), ensure_ascii=False).encode("utf-8")


def csv_cell(value: Any) -> str:
    """A cell as CSV text; text that a spreadsheet would run as a formula is kept inert (as
    audit.export._cell does), in one call per cell since a statewide report has millions."""
    if value.__class__ is str:
        return "'" + value if value and value[0] in _FORMULA_START else value
    return _cell(text(value))


_FIRST = operator.itemgetter(slice(0, 1))  # a text's first character ("" for "")
# Values the csv module writes as text() would (a date-time would not: text() gives UTC minutes).
_PLAIN = frozenset((str, type(None), int, float, bool, _dt.date))
_TEXT = frozenset((str, type(None)))


def _plain_and_inert(cells: list[tuple]) -> bool:
    """Whether the csv module may write this batch as it is: every value of a plain type, and no
    text that starts like a formula (checked a column at a time, in C)."""
    for column in zip(*cells, strict=False):
        types = set(map(type, column))
        if not types <= _PLAIN:
            return False
        if str in types:
            if not types <= _TEXT:
                return False  # text mixed with numbers or dates: the careful path
            if not _FORMULA_START.isdisjoint(map(_FIRST, filter(None, column))):
                return False
        elif int in types or float in types:
            return False  # a negative number starts like a formula too
    return True


def csv_chunks(columns: tuple[str, ...], rows: Iterable[tuple], progress: Progress = _noop) -> Iterator[str]:
    """The header and rows as CSV text, a few hundred rows at a time (cells that would run as a
    spreadsheet formula kept inert).

    A statewide report is millions of cells, so a batch whose values are text, dates or empty and
    whose text does not start like a formula (both checked a column at a time) is handed to the
    csv module whole; any other batch is written a cell at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    width = len(columns)
    n = 0
    formula = _FORMULA_START
    rows = iter(rows)
    while batch := list(islice(rows, CHUNK)):
        n += len(batch)
        cells = [row[:width] for row in batch]
        if _plain_and_inert(cells):
            writer.writerows(cells)
        else:  # csv_cell, inline
            writer.writerows([(("'" + v if v and v[0] in formula else v) if v.__class__ is str else csv_cell(v))
                              for v in row] for row in cells)
        progress(n)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if n == 0:
        progress(0)
        yield buffer.getvalue()


def write_csv(meta: Meta, kind, rows, progress: Progress = _noop) -> bytes:
    counted = _Counted(rows)
    body = "".join(csv_chunks(kind.columns, counted, progress)).encode("utf-8")
    meta.rows = counted.n
    return body


class _Counted:
    """Iterate ``rows`` once, counting them."""

    def __init__(self, rows: Iterable[tuple]):
        self.rows, self.n = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.n += 1
            yield row


def writer(fmt: str) -> Callable[..., bytes]:
    """The whole-file writer of a format: (meta, kind, rows, progress) -> bytes (sets meta.rows)."""
    from audit.reports import office
    table = {"json": write_json, "csv": write_csv, "xlsx": office.write_xlsx, "pdf": office.write_pdf,
             "docx": office.write_docx}
    return table[fmt]
