"""The Student Profile as one object: demographics (read-only), editable fields, jurisdiction,
and whether the remaining Student Options are open (after parent/guardian information is saved)."""
from __future__ import annotations

from ser_core import jurisdiction
from ser_core.guardians import has_guardian
from ser_core.models import SerStudent
from ser_core.presenters import jurisdiction_view, row_view
from ser_core.search import has_open_services
from ser_core.students import PROFILE_FIELDS


def profile_view(student: SerStudent) -> dict:
    current = jurisdiction.current(student)
    saved = has_guardian(student)
    return {**row_view(student, has_open_services(student)),
            **{name: getattr(student, name) for name in PROFILE_FIELDS},
            "current_jurisdiction": jurisdiction_view(current) if current else None,
            "guardian_saved": saved, "options_open": saved}

