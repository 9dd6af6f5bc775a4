"""Twenty simultaneous claims of one student by the writers of two LEAs: every accepted claim
joins one chain of jurisdiction records (the student's row lock, and one open record per student)."""
from __future__ import annotations

import threading

import pytest

from audit.verify import verify
from edlink import clock
from edlink.errors import DomainError
from edlink.extensions import db
from edlink.users import get_user
from ser_core import jurisdiction
from ser_core.access import find_student
from tests.conftest import DB_KIND
from tests.ser_core.conftest import DEVON, NOW, TODAY, seed_world

CLAIMERS = 20


@pytest.mark.postgres_only
@pytest.mark.skipif(DB_KIND == "sqlite", reason="concurrency test: PostgreSQL only")
def test_simultaneous_claims_keep_one_chain(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLAIMERS + 2, "max_overflow": 0})
    from edlink.demo import SEEDERS, seed
    clock.set_now(NOW)
    app.extensions[SEEDERS] = []
    seed(full=True)
    db.session.commit()
    seed_world()
    start = threading.Barrier(CLAIMERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def claim(i: int) -> None:
        try:
            with app.app_context():
                writer = get_user("serwriter" if i % 2 else "harborwriter")
                school = "101001" if i % 2 else "102001"
                student = find_student(DEVON)
                start.wait(timeout=30)
                try:
                    jurisdiction.claim(student, school, TODAY, None, writer)
                    db.session.commit()
                    outcomes.append("claimed")
                except DomainError as exc:
                    db.session.rollback()
                    outcomes.append(exc.code)
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    db.session.expire_all()
    rows = sorted(jurisdiction.history(find_student(DEVON)), key=lambda r: r.begin_date)
    # the first claim today wins; every later one has a begin date not after it
    assert outcomes.count("claimed") == 1 and len(rows) == 2
    assert set(outcomes) - {"claimed"} <= {"begin_date_too_early", "same_site"}
    assert rows[0].end_date == TODAY - jurisdiction.ONE_DAY and rows[1].end_date is None
    assert verify(app.config["AUDIT_KEY"]).ok
