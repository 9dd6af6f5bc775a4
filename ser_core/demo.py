"""SER's part of ``edlink seed-demo``: a registry and students in the demo LEAs (idempotent).

Pinecrest Parish (101): Avery at Pinecrest High with a guardian and an initial evaluation; Blair
at Lakeside Academy, the nonpublic school 101 serves; Jordan at Little Acorns, the early-childhood
centre 101 serves; Ellis at Pinecrest Elementary, whose record is six years old (inactive).
Harbor City (102): Casey, with an open Speech/Language service at 102 (a claim by 101 is refused
until it ends), and Devon, with none (101 may claim). Finley is only in the registry (Add New
Student). Every name is invented.
"""
from __future__ import annotations

import datetime as _dt

from edlink import clock
from edlink.extensions import db
from edlink.models import User
from ser_core import evaluations, exceptionalities, guardians, jurisdiction, students
from ser_core.access import find_student
from ser_core.models import SerService
from ser_core.registry import import_registry

REGISTRY_CSV = """state_id,first_name,last_name,middle_name,birth_date,gender,suffix,ethnicity,race
1000100001,Avery,Pinewood,Jo,2012-03-14,F,,Not Hispanic/Latino,White
1000100002,Blair,Lakewood,,2014-07-01,M,Jr,Hispanic/Latino,Asian
1000100003,Casey,Harbison,,2011-01-20,F,,Not Hispanic/Latino,Black or African American
1000100004,Devon,Harbison,Lee,2013-09-09,M,,Not Hispanic/Latino,Two or More Races
1000100005,Ellis,Oldfield,,2003-05-05,M,,Not Hispanic/Latino,White
1000100006,Finley,Newcombe,,2015-02-02,F,,Hispanic/Latino,White
1000100007,Jordan,Acorn,,2022-06-18,M,,Not Hispanic/Latino,Native Hawaiian or Other Pacific Islander
"""
# state ID, writer persona, school, days since the claim began
STUDENTS = [("1000100001", "serwriter", "101001", 400), ("1000100002", "serwriter", "NP1011", 200),
            ("1000100007", "serwriter", "EC1012", 90), ("1000100005", "serwriter", "101002", 2600),
            ("1000100003", "harborwriter", "102001", 300), ("1000100004", "harborwriter", "102002", 120)]


def seed() -> str:
    registry = import_registry(REGISTRY_CSV, actor="system:demo")
    made = 0
    today = clock.today()
    for state_id, persona, school, days in STUDENTS:
        if find_student(state_id) is not None:
            continue
        writer = db.session.execute(db.select(User).where(User.username == persona)).scalars().first()
        student = students.add_student(state_id, writer)
        jurisdiction.claim(student, school, today - _dt.timedelta(days=days), None, writer)
        made += 1
        if state_id == "1000100001":
            guardians.save_guardian(student, {"title": "Mrs.", "first_name": "Morgan", "last_name": "Pinewood",
                                              "relationship": "Mother", "phone": "225-555-0110",
                                              "city": "Pinecrest", "state": "LA", "zip_code": "70801"}, writer)
            found = evaluations.save_evaluation(student, "initial", {
                "permission_request_date": today - _dt.timedelta(days=380), "parent_decision": "consent",
                "decision_date": today - _dt.timedelta(days=375)}, writer)
            exceptionalities.add_exceptionality(student, found, "Autism", "", True, writer)
            evaluations.save_evaluation(student, "initial", {"completion_date": today - _dt.timedelta(days=340),
                                                             "eligibility_date": today - _dt.timedelta(days=330)},
                                        writer, found)
        if state_id == "1000100003":
            db.session.add(SerService(student_id=student.id, lea_id=student.lea_id, service_type="Speech/Language",
                                      provider_name="Harbor Speech Services", teacher_of_record="Demo Harbor Teacher",
                                      begin_date=today - _dt.timedelta(days=290)))
        if state_id == "1000100005":  # nothing changed on this record for six years: inactive
            student.record_updated_at = clock.now() - _dt.timedelta(days=6 * 366)
    db.session.flush()
    return f"SER: registry {registry.summary()}, students added {made}"
