"""A small SER world on top of the demo state: Pinecrest Parish (101, "LEA A", which serves the
nonpublic Lakeside Academy NP1011) and Harbor City Schools (102, "LEA B").

Registry: six students. In SER: Avery at Pinecrest High (101001), Blair at Lakeside Academy
(NP1011, nonpublic, served by 101), Casey at Harbor City Middle (102001) with an open service at
102, Devon at Harbor City Elementary (102002) with none, and Ellis at Pinecrest Elementary
(101002) whose record was last changed six years ago (inactive). Finley is only in the registry.
"""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink import clock
from edlink.extensions import db
from edlink.users import get_user
from ser_core import jurisdiction, students
from ser_core.models import SerService
from ser_core.registry import import_registry

NOW = _dt.datetime(2026, 11, 2, 15, 0, tzinfo=_dt.UTC)
TODAY = NOW.date()

AVERY, BLAIR, CASEY, DEVON, ELLIS, FINLEY = ("4000000001", "4000000002", "4000000003", "4000000004",
                                             "4000000005", "4000000006")
REGISTRY_CSV = """state_id,first_name,last_name,middle_name,birth_date,gender,suffix,ethnicity,race
4000000001,Avery,Pinewood,Jo,2012-03-14,F,,Not Hispanic/Latino,White
4000000002,Blair,Lakewood,,2014-07-01,M,Jr,Hispanic/Latino,Asian
4000000003,Casey,Harbison,,2011-01-20,F,,Not Hispanic/Latino,Black or African American
4000000004,Devon,Harbison,Lee,2013-09-09,M,,,
4000000005,Ellis,Oldfield,,2001-05-05,M,,,
4000000006,Finley,Newcombe,,2015-02-02,F,,,
"""


def seed_world():
    """The world above, made through the services (as users would)."""
    import_registry(REGISTRY_CSV, actor="system:test")
    a, b = get_user("serwriter"), get_user("harborwriter")
    begun = TODAY - _dt.timedelta(days=60)
    for state_id, who, school in ((AVERY, a, "101001"), (BLAIR, a, "NP1011"), (CASEY, b, "102001"),
                                  (DEVON, b, "102002"), (ELLIS, a, "101002")):
        student = students.add_student(state_id, who)
        jurisdiction.claim(student, school, begun, None, who)
        if state_id == CASEY:
            db.session.add(SerService(student_id=student.id, lea_id=student.lea_id, service_type="Speech/Language",
                                      provider_name="Harbor Speech Services", begin_date=begun))
        if state_id == ELLIS:
            student.record_updated_at = NOW.replace(year=NOW.year - 6)
    db.session.commit()


@pytest.fixture
def ser(app):
    """The demo state (without SER's own demo students) and the SER world above, made at NOW
    (the clock stays pinned there)."""
    from edlink.demo import SEEDERS, seed
    clock.set_now(NOW)
    app.extensions[SEEDERS] = []
    seed(full=True)
    db.session.commit()
    seed_world()
    return app


@pytest.fixture
def demo(app):
    """Here the full demo of `edlink seed-demo`: with the SER personas, registry and students."""
    from edlink.demo import seed
    seed(full=True)
    db.session.commit()
    return app


def events(action: str, actor: str | None = None):
    from audit.models import AuditEvent
    db.session.expire_all()
    query = db.select(AuditEvent).where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    return list(db.session.execute(query.order_by(AuditEvent.seq)).scalars())
