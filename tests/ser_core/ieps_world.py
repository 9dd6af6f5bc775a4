"""Helpers for the IEP, service and exit tests: a guardian and a complete initial evaluation for
Avery (101), and an IEP filled in until it validates."""
from __future__ import annotations

import datetime as _dt

from edlink.extensions import db
from edlink.users import get_user
from ser_core import evaluations, exceptionalities, guardians
from ser_core.access import find_student
from tests.ser_core.conftest import AVERY, TODAY

D = _dt.timedelta(days=1)
COMPLETE = {
    "present_levels": {"academic": "Reads at grade 3 level.", "functional": "Works well in small groups."},
    "goals": {"goal": "Will read grade 4 passages with 90% accuracy.", "measurement": "Quarterly probes."},
    "program_services": {"services": "Resource reading, 5 x 45 minutes", "minutes_per_week": "225",
                         "setting": "Regular class 80% or more of the day"},
    "assessment": {"assessment": "Regular Assessment with Accommodations", "accommodations": "Extended time."},
    "signatures": {"parent_participated": "Yes", "parent_signature_date": (TODAY - 10 * D).isoformat(),
                   "lea_representative": "Demo Coordinator"},
}


def evaluated(state_id: str = AVERY, eligible_days_ago: int = 30, writer: str = "serwriter"):
    """The student with a guardian and an initial evaluation found eligible ``eligible_days_ago``."""
    student, user = find_student(state_id), get_user(writer)
    guardians.save_guardian(student, {"first_name": "Morgan", "last_name": "Pinewood", "relationship": "Mother"},
                            user)
    found = evaluations.save_evaluation(student, "initial", {
        "permission_request_date": TODAY - (eligible_days_ago + 40) * D, "parent_decision": "consent",
        "decision_date": TODAY - (eligible_days_ago + 35) * D}, user)
    exceptionalities.add_exceptionality(student, found, "Autism", "", True, user)
    evaluations.save_evaluation(student, "initial", {"completion_date": TODAY - (eligible_days_ago + 5) * D,
                                                     "eligibility_date": TODAY - eligible_days_ago * D}, user, found)
    db.session.commit()
    return student


def general(meeting_days_ago: int = 10, iep_type: str = "initial") -> dict:
    meeting = TODAY - meeting_days_ago * D
    return {"iep_type": iep_type, "team_meeting_date": meeting.isoformat(), "begin_date": meeting.isoformat(),
            "end_date": (meeting.replace(year=meeting.year + 1) - D).isoformat()}
