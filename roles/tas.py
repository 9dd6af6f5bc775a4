"""Carrying legacy TAS grants over at go-live (``edlink tas import FILE.csv [--dry-run]``).

The file is a TAS "User Report by Application":
``username,staff_id,sponsor_code,application,tas_role,granted_on,expires_on``. Every row gets
one outcome with its reason: imported, skipped (expired in TAS, already granted, a duplicate,
revoked or suspended here) or rejected (what is wrong with it). One rejected row refuses the
whole file: nothing is written, and every rejected row is named with its line. A dry run checks
and reports the same way and writes nothing.

A row is carried over when its TAS role code maps through the catalog to a role of the row's
application; ``sponsor_code`` is an org the role may be granted at (the state, an LEA or a
school), inside the person's school system; the username belongs to an account that is linked
to the staff record with ``staff_id``, whose HR status is active.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

import audit
from edlink import clock
from edlink.csvio import ImportRejected, RowError, read_rows
from edlink.orgs import state_org
from roles.grants import create_grant
from roles.tas_rows import Good, TasRow, World, check_holder_limits, check_row, skip_existing

__all__ = ["TAS_COLUMNS", "TasRejected", "TasResult", "TasRow", "import_tas"]

TAS_COLUMNS = ["username", "staff_id", "sponsor_code", "application", "tas_role", "granted_on",
               "expires_on"]
OUTCOME_WORDS = {"imported": "imported", "skipped": "skipped", "rejected": "rejected",
                 "held": "not imported"}


@dataclass
class TasResult:
    """Every row's outcome, in file order; ``applied`` once the grants are written."""

    rows: list[TasRow] = field(default_factory=list)
    dry_run: bool = False
    applied: bool = False
    batch: str = ""

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def summary(self) -> dict[str, int]:
        return {"imported": self.count("imported"), "skipped": self.count("skipped"),
                "rejected": self.count("rejected")}

    def lines(self) -> list[str]:
        return [f"line {r.line}: {OUTCOME_WORDS[r.outcome]} — {r.reason}" for r in self.rows]

    def summary_line(self) -> str:
        s = self.summary()
        text = f"imported {s['imported']}, skipped {s['skipped']}, rejected {s['rejected']}"
        if self.count("held"):
            text += f" ({self.count('held')} good row(s) not imported: the file has rejected rows)"
        if self.dry_run:
            text += " — dry run: nothing was changed"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "dry_run": self.dry_run, "applied": self.applied,
                "rows": [r.as_dict() for r in self.rows]}


class TasRejected(ImportRejected):
    """The TAS file was refused; ``result`` holds every row's outcome, ``errors`` the rejected ones."""

    def __init__(self, result: TasResult):
        self.result = result
        super().__init__([RowError(r.line, r.reason, r.username) for r in result.rows
                          if r.outcome == "rejected"], "TAS file")
        if result.dry_run:
            self.message = "Dry run: " + self.message.replace("was not imported", "would be refused", 1)


def import_tas(data: str | bytes, *, dry_run: bool = False, actor: Any = "system:cli") -> TasResult:
    """Carry a TAS "User Report by Application" over: whole or not at all, a report per row.

    Raises :class:`TasRejected` (nothing written) when any row is rejected. With ``dry_run``
    nothing is written either way. Grants and events are flushed into the caller's transaction,
    which commits them.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    rows = read_rows(data, TAS_COLUMNS, required=TAS_COLUMNS[:-1])
    zone = ZoneInfo(str(current_app.config["TIMEZONE"]))
    today = clock.now().astimezone(zone).date()
    world = World(rows)
    outcomes = [check_row(world, line, row, today, zone) for line, row in rows]
    skip_existing(world, outcomes)
    check_holder_limits(outcomes)
    refused = any(isinstance(o, TasRow) and o.outcome == "rejected" for o in outcomes)
    result = TasResult(dry_run=dry_run)
    for o in outcomes:
        if isinstance(o, TasRow):
            result.rows.append(o)
        elif refused:
            result.rows.append(TasRow(o.line, "held", "the file has rejected rows; this one would import "
                                      + o.note, o.user.username, o.role.code, o.org.code))
        else:
            result.rows.append(TasRow(o.line, "imported", o.note, o.user.username, o.role.code, o.org.code))
    if refused:
        raise TasRejected(result)
    if dry_run:
        return result
    result.batch = uuid.uuid4().hex[:12]
    for o in outcomes:
        if isinstance(o, Good):
            create_grant(o.user, o.role.code, o.org, source="tas_import", granted_by=None, actor=actor,
                         starts_at=o.starts_at, ends_at=o.ends_at)
    audit.record("tas.imported", actor, ("tas_import", result.batch), state_org(),
                 {**result.summary(), "rows": len(rows),
                  "skipped_by_reason": dict(Counter(r.kind for r in result.rows if r.outcome == "skipped")),
                  "file_sha256": hashlib.sha256(raw).hexdigest()})
    result.applied = True
    return result
