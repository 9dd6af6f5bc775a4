"""Special education activity: when a student entered special education and how the student exited.

Opened when the initial IEP (or the first IEP after an exit) is submitted to SER; closed by a
Data Writer of the LEA with jurisdiction with an exit date and one of the exit reasons, once the
student's services are terminated with reasons that agree with the exit (ser_core.exits).
"""
from __future__ import annotations

from edlink import clock
from edlink.errors import Conflict, Invalid
from edlink.extensions import db
from edlink.models import User
from roles import gate
from ser_core import exits
from ser_core.access import WRITE, event, org_of, touch
from ser_core.dates import parse_date
from ser_core.models import SerService, SerStudent
from ser_core.models_iep import Iep, SpedActivity


def activities(student: SerStudent) -> list[SpedActivity]:
    """The student's activity records, the most recent first."""
    return list(db.session.execute(db.select(SpedActivity).where(SpedActivity.student_id == student.id)
                                   .order_by(SpedActivity.begin_date.desc(), SpedActivity.id.desc())).scalars())


def open_activity(student: SerStudent) -> SpedActivity | None:
    return next((a for a in activities(student) if a.exit_date is None), None)


def open_for(iep: Iep, user: User) -> SpedActivity | None:
    """At submission: the new activity this IEP opens, or None when one is already open."""
    student = iep.student
    history = activities(student)
    if any(a.exit_date is None for a in history):
        return None
    last = history[0] if history else None
    if last is not None and last.exit_reason == exits.DEATH:
        raise Conflict("student_deceased", "The student's special education activity ended with the exit Death; "
                       "no IEP can be submitted.")
    if last is not None and exits.is_terminal(last.exit_reason) and iep.iep_type != "initial":
        raise Conflict("initial_iep_required", f"The student exited special education on {last.exit_date:%m/%d/%Y} "
                       f"({last.exit_reason}, a terminal exit): special education resumes only with an initial "
                       "evaluation and an Initial IEP.")
    if last is None and iep.iep_type not in ("initial", "transfer"):
        raise Conflict("initial_iep_required", "The student has no special education activity: the first IEP "
                       "submitted must be an Initial IEP (or a Transfer IEP for a student from another state).")
    if last is not None and iep.begin_date <= last.exit_date:
        raise Conflict("begins_before_exit", f"The IEP Begin Date must be after the exit of {last.exit_date:%m/%d/%Y}.")
    activity = SpedActivity(student_id=student.id, lea_id=student.lea_id, begin_date=iep.begin_date,
                            opened_by_iep_id=iep.id)
    db.session.add(activity)
    db.session.flush()
    event("ser.activity.opened", user, student, {"activity_id": activity.id, "iep_id": iep.id,
                                                 "begin_date": activity.begin_date.isoformat()})
    return activity


def _refuse(code: str, message: str, *names: str):
    raise Invalid(code, message, fields={name: [message] for name in names} or None)


def last_terminations(student: SerStudent, activity: SpedActivity) -> list[SerService]:
    """The services whose termination ended the student's services (the latest end date in the
    activity; provider changes do not count, a new service followed them)."""
    ended = [s for s in db.session.execute(db.select(SerService).where(
        SerService.student_id == student.id, SerService.end_date.is_not(None),
        SerService.end_date >= activity.begin_date)).scalars() if s.termination_reason != exits.PROVIDER_CHANGE]
    if not ended:
        return []
    latest = max(s.end_date for s in ended)
    return [s for s in ended if s.end_date == latest]


def close_activity(student: SerStudent, exit_date, exit_reason: str | None, user: User) -> SpedActivity:
    gate.require(WRITE, org_of(student), user)
    if not student.jurisdiction_open:
        raise Conflict("no_open_jurisdiction", "The student has no open jurisdiction; only the LEA with "
                       "jurisdiction exits the student.")
    activity = open_activity(student)
    if activity is None:
        raise Conflict("no_open_activity", "The student has no open special education activity to close.")
    if not exit_reason:
        _refuse("exit_reason_required", "Exit Reason is required.", "exit_reason")
    if exit_reason not in exits.EXIT_REASONS:
        _refuse("invalid_exit_reason", "Choose an Exit Reason from the list.", "exit_reason")
    exit_date = parse_date(exit_date, "exit_date", "Exit Date")
    if exit_date is None:
        _refuse("exit_date_required", "Exit Date is required.", "exit_date")
    if exit_date > clock.today():
        _refuse("date_in_future", "Exit Date cannot be in the future.", "exit_date")
    if exit_date < activity.begin_date:
        _refuse("exit_before_begin", f"The Exit Date cannot be before the activity began "
                f"({activity.begin_date:%m/%d/%Y}).", "exit_date")
    still_open = list(db.session.execute(db.select(SerService).where(
        SerService.student_id == student.id, SerService.end_date.is_(None)).order_by(SerService.id)).scalars())
    if still_open:
        _refuse("services_open", "Terminate the student's open services before closing the special education "
                "activity: " + ", ".join(s.service_type for s in still_open) + ".", "exit_reason")
    last = last_terminations(student, activity)
    for service in last:
        problem = exits.mismatch(service.termination_reason, exit_reason)
        if problem:
            _refuse("exit_mismatch", problem, "exit_reason")
    if last and exit_date < last[0].end_date:
        _refuse("exit_before_termination", f"The Exit Date cannot be before the services ended "
                f"({last[0].end_date:%m/%d/%Y}).", "exit_date")
    activity.exit_date, activity.exit_reason = exit_date, exit_reason
    activity.exit_lea_id, activity.closed_by_id = student.lea_id, user.id
    touch(student)
    db.session.flush()
    event("ser.activity.closed", user, student, {"activity_id": activity.id, "exit_date": exit_date.isoformat(),
                                                 "exit_reason": exit_reason,
                                                 "terminal": exits.is_terminal(exit_reason)})
    return activity
