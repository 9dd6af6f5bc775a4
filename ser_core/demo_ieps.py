"""SER part 2 in ``edlink seed-demo`` (after SER's own demo students; idempotent): IEPs,
services, an exit and post-school transition in every state the screens show.

Pinecrest Parish (101):
- Avery: an initial IEP made official, submitted (which opened the sped activity), amended once
  and made official again (version 2, not yet resubmitted); Speech/Language and Special
  Transportation services, the speech provider changed once (terminate and add);
- Blair: a guardian and a draft Annual Review IEP with validation errors left to fix;
- Jordan: a guardian and an initial evaluation found eligible (Developmental Delay), no IEP yet
  (an IEP writer can walk one from draft to submitted);
- Quinn: exited with a High School Diploma (Regular Assessment) 400 days ago after a
  Progress-terminated service; the Initial Exit survey is recorded, the One Year Exit
  Follow-up is owed (the PST Missing report lists it).
Every name is invented.
"""
from __future__ import annotations

import datetime as _dt

from edlink import clock
from edlink.extensions import db
from edlink.users import find_local_user
from ser_core import activity, evaluations, exceptionalities, guardians, jurisdiction, pst, services, students
from ser_core.access import find_student
from ser_core.ieps import service as ieps
from ser_core.registry import import_registry

QUINN = "1000100008"
REGISTRY_CSV = f"""state_id,first_name,last_name,middle_name,birth_date,gender
{QUINN},Quinn,Bayfield,,2006-04-11,F
"""
FORMS = {
    "present_levels": {"academic": "Reads two grades below level; strong in number sense.",
                       "functional": "Follows a visual schedule."},
    "goals": {"goal": "Will read grade-level passages at 90 words a minute.", "measurement": "Monthly probes."},
    "program_services": {"services": "Resource reading 5 x 45 minutes; speech 2 x 30 minutes",
                         "minutes_per_week": "285", "setting": "Regular class 80% or more of the day"},
    "assessment": {"assessment": "Regular Assessment with Accommodations", "accommodations": "Extended time."},
    "signatures": {"parent_participated": "Yes", "lea_representative": "Demo Coordinator"},
}
TRANSITION = {"postsecondary_goals": "Will enrol in a technical college programme.",
              "transition_services": "Career interest inventory; job shadowing."}


def _days(n: int) -> _dt.date:
    return clock.today() - _dt.timedelta(days=n)


def _guardian(student, writer, first: str, last: str) -> None:
    if not guardians.has_guardian(student):
        guardians.save_guardian(student, {"first_name": first, "last_name": last, "relationship": "Mother"}, writer)


def _evaluated(student, writer, consent_days: int, eligible_days: int, code: str) -> None:
    found = evaluations.save_evaluation(student, "initial", {
        "permission_request_date": _days(consent_days + 5), "parent_decision": "consent",
        "decision_date": _days(consent_days)}, writer)
    exceptionalities.add_exceptionality(student, found, code, "", True, writer)
    evaluations.save_evaluation(student, "initial", {"completion_date": _days(eligible_days + 3),
                                                     "eligibility_date": _days(eligible_days)}, writer, found)


def _official_iep(student, user, meeting_days: int, extra: dict | None = None):
    iep = ieps.create_iep(student, "initial", None, user)
    meeting = _days(meeting_days)
    ieps.save_form(iep, "general", {"team_meeting_date": meeting, "begin_date": meeting,
                                    "end_date": meeting.replace(year=meeting.year + 1) - _dt.timedelta(days=1)}, user)
    forms = {**FORMS, **(extra or {})}
    ieps.set_forms(iep, [code for code in forms if code not in FORMS], user)
    for code, data in forms.items():
        ieps.save_form(iep, code, data, user)
    return ieps.make_official(iep, user)


def seed() -> str:
    if find_student(QUINN) is not None:
        return "SER IEPs: nothing to add"
    import_registry(REGISTRY_CSV, actor="system:demo")
    # everything by the IEP submitter (also a Data Writer), so the SER demo's own events stay serwriter's
    writer = submitter = find_local_user("iepsubmitter")
    avery, blair, jordan = (find_student(s) for s in ("1000100001", "1000100002", "1000100007"))

    iep = _official_iep(avery, submitter, 310)
    ieps.submit(iep, submitter)
    ieps.amend(iep, submitter)
    ieps.save_form(iep, "amendments", {"amendment_date": _days(100).isoformat(), "parent_contact_method": "Telephone",
                                       "explanation": "Speech raised from 1 to 2 sessions a week after the review."},
                   submitter)
    ieps.make_official(iep, submitter)
    speech = services.add_service(avery, {"service_type": "Speech/Language", "provider_staff_id": "1000000015",
                                          "teacher_staff_id": "1000000016", "begin_date": _days(300)}, writer)
    services.change_provider(speech, "1000000019", _days(60), writer)
    services.add_service(avery, {"service_type": "Special Transportation", "provider_staff_id": "1000000016",
                                 "begin_date": _days(300)}, writer)

    _guardian(blair, writer, "Sam", "Lakewood")
    draft = ieps.create_iep(blair, "annual", _days(5), submitter)
    ieps.save_form(draft, "present_levels", {"academic": "Working on grade-level math facts."}, submitter)

    _guardian(jordan, writer, "Alex", "Acorn")
    _evaluated(jordan, writer, 70, 20, "Developmental Delay")

    quinn = students.add_student(QUINN, writer)
    jurisdiction.claim(quinn, "101001", _days(1000), None, writer)
    _guardian(quinn, writer, "Robin", "Bayfield")
    _evaluated(quinn, writer, 900, 860, "Specific Learning Disability")
    old = _official_iep(quinn, submitter, 840, {"transition": TRANSITION})
    ieps.submit(old, submitter)
    service = services.add_service(quinn, {"service_type": "Special Education Instruction",
                                           "provider_staff_id": "1000000015", "begin_date": _days(830)}, writer)
    services.terminate(service, _days(400), "Progress Indicates Services No Longer Needed", writer)
    activity.close_activity(quinn, _days(400), "High School Diploma (Regular Assessment)", writer)
    pst.record(quinn, "initial_exit", {"survey_date": _days(390), "post_school_plan": "Higher Education"}, writer)
    db.session.flush()
    return "SER IEPs: IEPs for Avery, Blair and Quinn, services, an exit with its post-school transition"
