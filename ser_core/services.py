"""Services: one record per service a student receives (special transportation included), the
most recent first; terminated with an end date and one of the seven termination reasons. A
provider change terminates the service ("Service Provider Change") and adds a new one: the old
provider is never typed over. Providers are staff of the staff directory, named by their
10-digit staff ID — never by an SSN.
"""
from __future__ import annotations

import datetime as _dt
import re

from edlink import clock
from edlink.errors import Conflict, Invalid, NotFound
from edlink.extensions import db
from edlink.models import StaffRecord, User
from roles import gate
from ser_core import exits
from ser_core.access import WRITE, event, org_of, touch
from ser_core.dates import parse_date
from ser_core.models import SerService, SerStudent

SERVICE_TYPES = ("Special Education Instruction", "Speech/Language", "Occupational Therapy", "Physical Therapy",
                 "Adapted Physical Education", "Special Transportation", "Counseling Services",
                 "Psychological Services", "Audiology", "Orientation and Mobility", "Assistive Technology",
                 "Interpreter Services", "School Health Services")
RECIPIENTS = ("Student", "Parent/Family", "Staff")
STAFF_ID_RE = re.compile(r"^\d{10}$")
SSN_RE = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")
LABELS = {"service_type": "Service", "recipient": "Service Recipient", "provider_staff_id": "Service Provider",
          "teacher_staff_id": "Teacher of Record", "begin_date": "Begin Date", "location": "Service Location",
          "minutes_per_week": "Minutes per Week", "end_date": "End Date", "termination_reason": "Termination Reason"}


def _refuse(code: str, message: str, *names: str):
    raise Invalid(code, message, fields={name: [message] for name in names} or None)


def services(student: SerStudent) -> list[SerService]:
    """The student's services, the most recent first."""
    return list(db.session.execute(db.select(SerService).where(SerService.student_id == student.id).order_by(
        SerService.begin_date.desc(), SerService.id.desc())).scalars())


def get_service(student: SerStudent, service_id: int) -> SerService:
    found = db.session.get(SerService, service_id)
    if found is None or found.student_id != student.id:
        raise NotFound("service_not_found", "This student has no such service.")
    return found


def staff_named(staff_id: str | None, name: str, label: str) -> StaffRecord:
    """The staff record of a provider or teacher by staff ID (an SSN is refused by name)."""
    value = (staff_id or "").strip()
    if SSN_RE.match(value):
        _refuse("ssn_not_allowed", f"Do not use an SSN for the {label}: enter the provider's 10-digit staff ID.",
                name)
    if not value:
        _refuse("required", f"{label} is required.", name)
    record = db.session.execute(db.select(StaffRecord).where(StaffRecord.staff_id == value)).scalar_one_or_none() \
        if STAFF_ID_RE.match(value) else None
    if record is None:
        _refuse("unknown_staff", f"The {label} must be the 10-digit staff ID of a staff member in the staff "
                "directory.", name)
    if record.status != "active":
        _refuse("staff_not_active", f"The {label} ({record.first_name} {record.last_name}) is not active in the "
                "staff directory.", name)
    return record


def _day(value, name: str) -> _dt.date | None:
    return parse_date(value, name, LABELS[name])


def _writable(student: SerStudent, user: User) -> None:
    gate.require(WRITE, org_of(student), user)
    if not student.jurisdiction_open:
        raise Conflict("no_open_jurisdiction", "The student has no open jurisdiction; only the LEA with "
                       "jurisdiction records services.")


def add_service(student: SerStudent, values: dict, user: User, replaces: SerService | None = None) -> SerService:
    """Add New: service, recipient (default Student), provider, teacher of record, begin date."""
    _writable(student, user)
    service_type = (values.get("service_type") or "").strip()
    if service_type not in SERVICE_TYPES:
        _refuse("invalid_service", "Choose the Service from the list.", "service_type")
    recipient = (values.get("recipient") or "Student").strip()
    if recipient not in RECIPIENTS:
        _refuse("invalid_recipient", "Service Recipient must be Student, Parent/Family or Staff.", "recipient")
    provider = staff_named(values.get("provider_staff_id"), "provider_staff_id", "Service Provider")
    teacher = None
    if (values.get("teacher_staff_id") or "").strip():
        teacher = staff_named(values.get("teacher_staff_id"), "teacher_staff_id", "Teacher of Record")
    begin = _day(values.get("begin_date"), "begin_date")
    if begin is None:
        _refuse("required", "Begin Date is required.", "begin_date")
    if begin > clock.today():
        _refuse("date_in_future", "Begin Date cannot be in the future.", "begin_date")
    minutes = values.get("minutes_per_week")
    if minutes not in (None, ""):
        if not str(minutes).strip().isdigit() or int(minutes) < 1:
            _refuse("invalid_minutes", "Minutes per Week must be a whole number above 0.", "minutes_per_week")
        minutes = int(minutes)
    else:
        minutes = None
    duplicate = db.session.execute(db.select(SerService.id).where(
        SerService.student_id == student.id, SerService.end_date.is_(None), SerService.service_type == service_type,
        SerService.provider_staff_id == provider.staff_id)).first()
    if duplicate is not None:
        raise Conflict("service_open", f"The student already has an open {service_type} service with this provider.")
    service = SerService(student_id=student.id, lea_id=student.lea_id, service_type=service_type, recipient=recipient,
                         provider_staff_id=provider.staff_id,
                         provider_name=f"{provider.first_name} {provider.last_name}",
                         teacher_staff_id=teacher.staff_id if teacher else "",
                         teacher_of_record=f"{teacher.first_name} {teacher.last_name}" if teacher else "",
                         location=(values.get("location") or "").strip()[:80], minutes_per_week=minutes,
                         begin_date=begin, created_by_id=user.id, replaces_id=replaces.id if replaces else None)
    db.session.add(service)
    touch(student)
    db.session.flush()
    event("ser.service.added", user, student, {"service_id": service.id, "service_type": service_type,
                                               "provider_staff_id": provider.staff_id,
                                               "begin_date": begin.isoformat(),
                                               "replaces": replaces.id if replaces else None})
    return service


def terminate(service: SerService, end_date, reason: str | None, user: User) -> SerService:
    """Service Terminated: an end date and one of the seven termination reasons."""
    student = service.student
    _writable(student, user)
    if service.end_date is not None:
        raise Conflict("service_terminated", f"This service was terminated on {service.end_date:%m/%d/%Y}.")
    end = _day(end_date, "end_date")
    if end is None:
        _refuse("required", "End Date is required when the service is terminated.", "end_date")
    if not reason:
        _refuse("required", "Termination Reason is required when the service is terminated.", "termination_reason")
    if reason not in exits.TERMINATION_REASONS:
        _refuse("invalid_reason", "Choose a Termination Reason from the list.", "termination_reason")
    if end > clock.today():
        _refuse("date_in_future", "End Date cannot be in the future.", "end_date")
    if end < service.begin_date:
        _refuse("end_before_begin", f"The End Date cannot be before the service's Begin Date "
                f"({service.begin_date:%m/%d/%Y}).", "end_date")
    service.end_date, service.termination_reason = end, reason
    service.terminated_at, service.terminated_by_id = clock.now(), user.id
    touch(student)
    db.session.flush()
    event("ser.service.terminated", user, student, {"service_id": service.id, "end_date": end.isoformat(),
                                                    "termination_reason": reason})
    return service


def change_provider(service: SerService, new_provider_staff_id: str, end_date, user: User) -> SerService:
    """Terminate ``service`` on ``end_date`` (the last day with the old provider) with Service
    Provider Change, and add the same service with the new provider from the next day."""
    new = staff_named(new_provider_staff_id, "new_provider_staff_id", "New Service Provider")
    if new.staff_id == service.provider_staff_id:
        _refuse("same_provider", "The new provider is the same as the current provider.", "new_provider_staff_id")
    terminate(service, end_date, exits.PROVIDER_CHANGE, user)
    begin = service.end_date + _dt.timedelta(days=1)
    if begin > clock.today():
        begin = service.end_date
    return add_service(service.student, {
        "service_type": service.service_type, "recipient": service.recipient, "provider_staff_id": new.staff_id,
        "teacher_staff_id": service.teacher_staff_id, "location": service.location,
        "minutes_per_week": service.minutes_per_week, "begin_date": begin}, user, replaces=service)
