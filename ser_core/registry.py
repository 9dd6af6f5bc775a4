"""The state student registry: `edlink students import FILE.csv` and look-ups by state ID."""
from __future__ import annotations

import datetime as _dt
import re

import audit
from edlink import clock
from edlink.csvio import ImportRejected, ImportResult, RowError, read_rows
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.orgs import state_org
from ser_core.models import ETHNICITIES, GENDERS, PII_FIELDS, RACES, RegistryStudent

REGISTRY_COLUMNS = ["state_id", "first_name", "last_name", "middle_name", "birth_date", "gender"]
OPTIONAL_COLUMNS = ["suffix", "ethnicity", "race"]
STATE_ID_RE = re.compile(r"^\d{10}$")


def check_state_id(state_id: str, field: str = "state_id") -> str:
    state_id = (state_id or "").strip()
    if not STATE_ID_RE.match(state_id):
        raise Invalid("invalid_state_id", "A State ID is 10 digits.", fields={field: ["10 digits"]})
    return state_id


def find(state_id: str) -> RegistryStudent | None:
    return db.session.execute(db.select(RegistryStudent).where(RegistryStudent.state_id == state_id)
                              ).scalar_one_or_none()


def get(state_id: str) -> RegistryStudent:
    entry = find(check_state_id(state_id))
    if entry is None:
        raise NotFound("not_in_registry", f"No student with State ID {state_id} is in the state registry (eScholar).")
    return entry


def _row_values(row: dict[str, str]) -> tuple[dict, list[str]]:
    problems: list[str] = []
    if not STATE_ID_RE.match(row["state_id"]):
        problems.append("malformed state ID: it must be 10 digits")
    if not row["first_name"] or not row["last_name"]:
        problems.append("first_name and last_name are required")
    birth = None
    try:
        birth = _dt.date.fromisoformat(row["birth_date"])
    except ValueError:
        problems.append(f"birth_date {row['birth_date']!r} is not a date (YYYY-MM-DD)")
    else:
        if birth > clock.today() or birth.year < 1900:
            problems.append(f"birth_date {row['birth_date']} is not a plausible date of birth")
    gender = row["gender"].upper()
    if gender not in GENDERS:
        problems.append(f"unknown gender {row['gender']!r} (M or F)")
    for name, allowed in (("ethnicity", ETHNICITIES), ("race", RACES)):
        if row.get(name) and row[name] not in allowed:
            problems.append(f"unknown {name} {row[name]!r} (one of: {'; '.join(allowed)})")
    for name in ("first_name", "last_name", "middle_name"):
        if len(row.get(name, "")) > 100:
            problems.append(f"{name} is longer than 100 characters")
    values = {"first_name": row["first_name"], "middle_name": row["middle_name"], "last_name": row["last_name"],
              "suffix": row.get("suffix", "")[:20], "birth_date": birth, "gender": gender,
              "ethnicity": row.get("ethnicity", ""), "race": row.get("race", "")}
    return values, problems


def import_registry(data: str | bytes, actor=None) -> ImportResult:
    """Create or update registry entries from CSV, all or nothing."""
    rows = read_rows(data, REGISTRY_COLUMNS + OPTIONAL_COLUMNS, required=REGISTRY_COLUMNS)
    errors: list[RowError] = []
    good: dict[str, dict] = {}
    seen: dict[str, int] = {}
    for line, row in rows:
        key = row.get("state_id", "")
        if "__error__" in row:
            errors.append(RowError(line, row["__error__"], key))
            continue
        values, problems = _row_values(row)
        if key in seen:
            problems.append(f"duplicate state ID in the file (also on line {seen[key]})")
        seen.setdefault(key, line)
        if problems:
            errors.append(RowError(line, "; ".join(problems), key))
        else:
            good[key] = values
    if errors:
        raise ImportRejected(errors, "student registry file")
    existing = {r.state_id: r for r in db.session.execute(
        db.select(RegistryStudent).where(RegistryStudent.state_id.in_(list(good)))).scalars()}
    result = ImportResult()
    now = clock.now()
    for key, values in good.items():
        entry = existing.get(key)
        if entry is None:
            db.session.add(RegistryStudent(state_id=key, updated_at=now, **values))
            result.created.append(key)
        elif {f: getattr(entry, f) for f in PII_FIELDS} != values:
            for name, value in values.items():
                setattr(entry, name, value)
            entry.updated_at = now
            result.updated.append(key)
        else:
            result.unchanged.append(key)
    db.session.flush()
    audit.record("ser.registry.imported", actor, ("ser_registry_import", None), state_org(),
                 {**result.summary(), "created": result.created, "updated": result.updated})
    return result
