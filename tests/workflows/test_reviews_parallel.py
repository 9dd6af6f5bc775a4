"""Simultaneous review decisions and deadline runs on PostgreSQL: each item is decided once, each
review closed once."""
from __future__ import annotations

import datetime as _dt
import threading

import pytest

from audit.models import AuditEvent
from audit.verify import verify
from edlink import clock
from edlink.errors import DomainError
from edlink.extensions import db
from edlink.users import get_user
from tests.conftest import DB_KIND
from tests.workflows.reviews_support import START, grant, staffer
from workflows.reviews import campaign, deadlines
from workflows.reviews.decide import decide
from workflows.reviews.models import AccessReview, ReviewItem

WORKERS = 20
pytestmark = [pytest.mark.postgres_only,
              pytest.mark.skipif(DB_KIND == "sqlite", reason="concurrency test: PostgreSQL only")]


def _run_all(app, work) -> tuple[list[str], list[BaseException]]:
    start = threading.Barrier(WORKERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            with app.app_context():
                try:
                    start.wait(timeout=30)
                    outcomes.append(work(n))
                    db.session.commit()
                except DomainError as exc:
                    db.session.rollback()
                    outcomes.append(exc.code)
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes, errors


def _setup(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": WORKERS + 2, "max_overflow": 0})
    from edlink.demo import seed
    seed()
    clock.set_now(START)
    readers = [grant(staffer(f"reader{i}")) for i in range(1, 4)]
    db.session.commit()
    review = campaign.start(get_user("coordinator"), readers[0].org.lea, "eser", 14)
    db.session.commit()
    return app, review


def test_simultaneous_decisions_on_one_item_decide_it_once(make_app):
    app, review = _setup(make_app)
    item_id = db.session.execute(db.select(ReviewItem.id).where(
        ReviewItem.review_id == review.id, ReviewItem.user_id == get_user("reader1").id)).scalar_one()

    def work(n: int) -> str:
        who = get_user("coordinator" if n % 2 else "supervisor")
        return decide(who, item_id, "revoke" if n % 2 else "certify", f"decider {n}").decision

    outcomes, errors = _run_all(app, work)
    assert not errors, errors
    winners = [o for o in outcomes if o in ("certify", "revoke")]
    assert len(winners) == 1 and outcomes.count("item_decided") == WORKERS - 1
    db.session.expire_all()
    item = db.session.get(ReviewItem, item_id)
    assert item.decision == winners[0]
    assert item.grant.status == ("revoked" if winners[0] == "revoke" else "active")
    decided = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "review.decided")).all()
    assert len(decided) == 1
    assert verify(app.config["AUDIT_KEY"]).ok


def test_simultaneous_deadline_runs_close_a_review_once(make_app):
    app, review = _setup(make_app)
    app.config["REVIEW_REMOVAL_GUARD"] = 1.0
    after = review.due_at + _dt.timedelta(hours=1)

    def work(_n: int) -> str:
        result = deadlines.close_due(after)
        return "closed" if result["closed"] else "nothing"

    outcomes, errors = _run_all(app, work)
    assert not errors, errors
    assert sorted(outcomes) == ["closed"] + ["nothing"] * (WORKERS - 1)
    db.session.expire_all()
    assert db.session.get(AccessReview, review.id).status == "closed"
    revoked = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "grant.revoked")).all()
    assert len(revoked) == 4  # three readers and the supervisor, each once
    assert verify(app.config["AUDIT_KEY"]).ok
