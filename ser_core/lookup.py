"""Add New Student / claim: find a student in the state registry by State ID.

A Data Writer picking up a student who moved in must see who has the student now and whether
that LEA still has open services (SER's "Open Services" column), without opening the record."""
from __future__ import annotations

import audit
from edlink.models import User
from roles import gate
from ser_core import registry
from ser_core.access import READ, WRITE, find_student, org_of
from ser_core.presenters import pii_view
from ser_core.search import has_open_services


def look_up(state_id: str, user: User) -> dict:
    gate.require(WRITE, None, user)
    entry = registry.get(state_id)
    student = find_student(entry.state_id)
    in_ser = None
    if student is not None:
        has_open = has_open_services(student)
        in_ser = {"lea": student.lea.code, "lea_name": student.lea.name,
                  "jurisdiction_open": student.jurisdiction_open, "open_services": has_open,
                  "yours": bool(gate.can(READ, org_of(student), user))}
    audit.record("ser.registry.viewed", user, ("ser_student", entry.state_id), student.lea if student else None,
                 {"state_id": entry.state_id, "in_ser": student is not None})
    return {"registry": pii_view(entry), "in_ser": in_ser}
