"""Service Provider Bulk Update (Tools): reassign a caseload from an old provider to a new one.

Get Student List loads the old provider's open services at the students the user may write
(the gate's scope, inside the query); the user picks some or all; each chosen service is a
provider change (terminate with Service Provider Change, add with the new provider) in its own
savepoint, so one student's validation error does not stop the others. The result lists each
student: updated, or the validation error with the student's name.
"""
from __future__ import annotations

from dataclasses import dataclass

import audit
from edlink.errors import DomainError, Invalid
from edlink.extensions import db
from edlink.models import User
from ser_core.access import WRITE, in_scope
from ser_core.models import SerService, SerStudent
from ser_core.services import change_provider, staff_named


@dataclass
class Outcome:
    service_id: int
    state_id: str
    student_name: str
    service_type: str
    ok: bool
    message: str
    new_service_id: int | None = None


def caseload(old_provider_staff_id: str, user: User) -> list[SerService]:
    """Get Student List: the old provider's open services among the students ``user`` may write."""
    provider = staff_named(old_provider_staff_id, "old_provider_staff_id", "Old Service Provider")
    return list(db.session.execute(
        db.select(SerService).join(SerStudent, SerStudent.id == SerService.student_id)
        .where(SerService.provider_staff_id == provider.staff_id, SerService.end_date.is_(None),
               SerService.lea_id == SerStudent.lea_id, in_scope(WRITE, user))
        .order_by(SerStudent.last_name, SerStudent.first_name, SerService.id)).scalars())


def apply(old_provider_staff_id: str, new_provider_staff_id: str, service_ids: list[int] | None, end_date,
          user: User) -> list[Outcome]:
    """Reassign the chosen services (``None``: Select All) of the old provider's caseload."""
    load = caseload(old_provider_staff_id, user)
    new = staff_named(new_provider_staff_id, "new_provider_staff_id", "New Service Provider")
    if new.staff_id == staff_named(old_provider_staff_id, "old_provider_staff_id", "Old Service Provider").staff_id:
        raise Invalid("same_provider", "The new provider is the same as the old provider.",
                      fields={"new_provider_staff_id": ["the same as the old provider"]})
    chosen = load if service_ids is None else [s for s in load if s.id in set(service_ids)]
    if not chosen:
        raise Invalid("nothing_selected", "Select at least one student to reassign.",
                      fields={"service_ids": ["select at least one"]})
    outcomes = []
    for service in chosen:
        student = service.student
        row = Outcome(service.id, student.state_id, f"{student.first_name} {student.last_name}",
                      service.service_type, False, "")
        try:
            with db.session.begin_nested():
                added = change_provider(service, new.staff_id, end_date, user)
            row.ok, row.message, row.new_service_id = True, "Updated", added.id
        except DomainError as exc:
            db.session.expire(service)
            row.message = exc.message
        outcomes.append(row)
    updated = [o for o in outcomes if o.ok]
    audit.record("ser.bulk_update", user, ("ser_provider", old_provider_staff_id), None, {
        "old_provider_staff_id": old_provider_staff_id, "new_provider_staff_id": new.staff_id,
        "updated": len(updated), "failed": [{"state_id": o.state_id, "message": o.message}
                                            for o in outcomes if not o.ok]})
    return outcomes
