"""CSV import plumbing shared by every import (orgs, staff, TAS, students, exits).

An import is all-or-nothing: rows are checked first, every rejected row is reported with its
line number and reason, and nothing is written unless every row is good.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from edlink.errors import DomainError


@dataclass
class RowError:
    line: int
    reason: str
    key: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "key": self.key, "reason": self.reason}


class ImportRejected(DomainError):
    """The file was refused as a whole; ``errors`` says which rows and why."""

    status = 422
    code = "import_rejected"

    def __init__(self, errors: list[RowError], what: str = "file"):
        self.errors = errors
        lines = ", ".join(str(e.line) for e in errors[:10]) + (" …" if len(errors) > 10 else "")
        super().__init__(
            message=f"The {what} was not imported: {len(errors)} row(s) rejected (line {lines}). "
                    "Nothing was changed; fix these rows and import the whole file again.",
            fields={"rows": [e.as_dict() for e in errors]},
        )


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": len(self.unchanged)}

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "created_keys": self.created, "updated_keys": self.updated,
                "unchanged_keys": self.unchanged, "rejected": [], **self.details}


def read_rows(data: str | bytes, columns: list[str], required: list[str] | None = None
              ) -> list[tuple[int, dict[str, str]]]:
    """Parse CSV text with a header row into ``(line number, row)`` pairs, values trimmed.

    The header must hold every name in ``columns`` (extra columns are kept, order is free).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DomainError("bad_file", f"The file is not UTF-8 text (byte {exc.start}).",
                              status=422) from exc
    elif data.startswith("\ufeff"):
        data = data[1:]
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DomainError("bad_file", "The file is empty: it needs a header row.", status=422) from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in (required or columns) if c not in header]
    if missing:
        raise DomainError("bad_header", "The header row lacks column(s): " + ", ".join(missing)
                          + ". Expected: " + ",".join(columns) + ".", status=422)
    rows = []
    for number, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) > len(header):
            # keep the row's values too, so the rejection can name the row's key
            known = {h: v.strip() for h, v in zip(header, values[:len(header)], strict=True)}
            rows.append((number, {**known, "__error__": f"{len(values)} values for {len(header)} columns"}))
            continue
        values = values + [""] * (len(header) - len(values))
        rows.append((number, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    return rows
