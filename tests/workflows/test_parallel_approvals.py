"""Fifty simultaneous final approvals of one request: exactly one wins (PostgreSQL row lock)."""
import threading

import pytest

from audit.models import AuditEvent
from audit.verify import verify
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.models import Grant
from tests.conftest import DB_KIND
from workflows import decisions
from workflows.models import AccessRequest
from workflows.requests import RequestRefused, submit

DECIDERS = 50


@pytest.mark.postgres_only
@pytest.mark.skipif(DB_KIND == "sqlite", reason="concurrency test: PostgreSQL only")
def test_fifty_parallel_approvals_leave_one_grant_and_one_approval(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": DECIDERS + 2, "max_overflow": 0})
    from edlink.demo import seed
    seed()
    request = submit(get_user("teacher"), "eser.reader", get_org("101002"), "reading records")
    db.session.commit()
    decisions.approve(get_user("supervisor"), request)
    db.session.commit()
    request_id = request.id
    start = threading.Barrier(DECIDERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def decide() -> None:
        try:
            with app.app_context():
                mine = db.session.get(AccessRequest, request_id)
                coordinator = get_user("coordinator")
                start.wait(timeout=30)
                try:
                    decisions.approve(coordinator, mine, "approved")
                    db.session.commit()
                    outcomes.append("approved")
                except RequestRefused as exc:
                    db.session.rollback()
                    outcomes.append(exc.code)
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=decide) for _ in range(DECIDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["already_decided"] * (DECIDERS - 1) + ["approved"]
    db.session.expire_all()
    grants = db.session.execute(db.select(Grant).where(Grant.role_code == "eser.reader")).scalars().all()
    assert len(grants) == 1
    approved = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "request.approved")).all()
    assert len(approved) == 1
    assert verify(app.config["AUDIT_KEY"]).ok
