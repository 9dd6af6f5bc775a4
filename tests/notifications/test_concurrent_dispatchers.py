"""Two dispatchers at once (the scheduler started twice, or a manual run during a scheduled
one): every message is delivered exactly once, and every digest built once.

PostgreSQL is the production database and where this matters: the claim sub-select skips rows
another dispatcher holds (FOR UPDATE SKIP LOCKED) and the UPDATE re-checks the status. SQLite
runs the same test with its single writer.
"""
from __future__ import annotations

import datetime as _dt
import threading
from collections import Counter

import pytest

from edlink import clock, jobs
from edlink.extensions import db
from notifications import notify, set_preferences
from notifications.models import OutboxMessage
from tests.conftest import DB_KIND

PEOPLE = 12
EVENTS_EACH = 5
DIGESTERS = 4  # of the people, these chose the daily digest


@pytest.mark.postgres_only
def test_two_dispatchers_deliver_every_message_exactly_once(make_app, smtp, person):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 0} if DB_KIND != "sqlite" else {})
    clock.set_now(clock.now())
    people = [person(f"staffer{n}", email=f"staffer{n}@school.example") for n in range(PEOPLE)]
    for user in people[:DIGESTERS]:
        set_preferences(user, digest_action_needed=True)
    for n in range(EVENTS_EACH):
        notify(people, "review.reminder", {"review": f"R-{n}", "org": "Test LEA"})  # digest-able
        notify(people, "grant.restored", {"role": f"Role {n}", "org": "Test LEA"})  # always at once
        db.session.commit()
    clock.advance(_dt.timedelta(days=1))  # the digests are due too

    start = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    by_thread: Counter[str] = Counter()

    def dispatcher() -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                while True:
                    result = jobs.run("notifications.dispatch")
                    results.append(result)
                    by_thread[threading.current_thread().name] += result["sent"]
                    if not any(result.values()):
                        break
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    immediate = PEOPLE * EVENTS_EACH + (PEOPLE - DIGESTERS) * EVENTS_EACH
    assert sum(r["sent"] for r in results) == immediate + DIGESTERS
    assert sum(r["digests"] for r in results) == DIGESTERS
    assert sum(r["retrying"] + r["failed"] for r in results) == 0
    if DB_KIND != "sqlite":  # they really ran side by side, each sending a share
        assert len(by_thread) == 2 and min(by_thread.values()) > 0, by_thread

    received = Counter(m.message["Message-ID"] for m in smtp.messages)
    assert len(smtp.messages) == immediate + DIGESTERS and set(received.values()) == {1}
    db.session.expire_all()
    sent = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.status == "sent")).scalars().all()
    assert {m.message_id for m in sent} == set(received)
    assert all(m.attempts == 1 for m in sent)
    digests = [m for m in smtp.messages if "daily digest" in m.subject]
    assert (sorted(r for m in digests for r in m.rcpt_tos)
            == sorted(f"staffer{n}@school.example" for n in range(DIGESTERS)))
    assert all(m.text().count("Reminder: access review") == EVENTS_EACH for m in digests)
