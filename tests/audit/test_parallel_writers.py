"""Many transactions appending at once leave one gap-free, verifying chain (PostgreSQL: the
advisory lock serialises appends; SQLite relies on its single writer)."""
import threading

import pytest

import audit
from audit.models import AuditEvent
from audit.verify import verify
from edlink.extensions import db
from tests.conftest import DB_KIND

WRITERS = 24
TRANSACTIONS = 5  # per writer; every third is rolled back
EVENTS = 2  # per transaction


@pytest.mark.postgres_only
@pytest.mark.skipif(DB_KIND == "sqlite", reason="concurrency test: PostgreSQL only")
def test_parallel_writers_leave_a_gap_free_verifying_chain(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": WRITERS + 2, "max_overflow": 0})
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                for t in range(TRANSACTIONS):
                    for e in range(EVENTS):
                        audit.record("test.parallel", f"system:writer{w}", ("writer", w), None,
                                     {"writer": w, "transaction": t, "event": e})
                    if t % 3 == 2:
                        db.session.rollback()
                    else:
                        db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    kept = sum(1 for t in range(TRANSACTIONS) if t % 3 != 2)
    expected = WRITERS * kept * EVENTS
    result = verify(app.config["AUDIT_KEY"])
    assert (result.ok, result.count, result.head.seq) == (True, expected, expected), result
    rows = db.session.execute(db.select(AuditEvent.seq, AuditEvent.details).order_by(AuditEvent.seq)).all()
    assert [seq for seq, _ in rows] == list(range(1, expected + 1))
    written = sorted((d["writer"], d["transaction"], d["event"]) for _, d in rows)
    assert written == sorted((w, t, e) for w in range(WRITERS) for t in range(TRANSACTIONS) if t % 3 != 2
                             for e in range(EVENTS))
