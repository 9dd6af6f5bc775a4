"""Two link attempts for the same staff record at the same time: one links, the other is refused
with a clear code (not a 500 from the unique index). PostgreSQL, where transactions really overlap."""
import threading

import pytest
from sqlalchemy import text

from edlink.extensions import db
from edlink.linking import LinkRefused, link_account
from edlink.models import Link
from edlink.users import find_local_user
from tests.conftest import DB_KIND


@pytest.mark.postgres_only
@pytest.mark.skipif(DB_KIND == "sqlite", reason="concurrency test: PostgreSQL only (SQLite has one writer)")
def test_concurrent_link_attempts_give_one_link_and_one_clear_refusal(make_app):
    app = make_app()
    from edlink.demo import seed
    seed()
    db.session.commit()
    first_flushed, outcome = threading.Event(), {}

    def attempt(name: str, hold: threading.Event | None) -> None:
        with app.app_context():
            try:
                link_account(find_local_user("newstaff"), "1000000001")
                if hold is not None:  # keep the transaction open until the other one waits on us
                    first_flushed.set()
                    hold.wait(timeout=30)
                db.session.commit()
                outcome[name] = "linked"
            except LinkRefused as exc:
                db.session.commit()  # the refusal is itself an event
                outcome[name] = exc.code
            finally:
                db.session.remove()

    release = threading.Event()
    a = threading.Thread(target=attempt, args=("a", release))
    a.start()
    assert first_flushed.wait(timeout=30)
    b = threading.Thread(target=attempt, args=("b", None))
    b.start()
    # wait until b is blocked on a's uncommitted row, then let a commit
    for _ in range(300):
        waiting = db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )).scalar_one()
        db.session.rollback()
        if waiting:
            break
        threading.Event().wait(0.05)
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert outcome == {"a": "linked", "b": "already_linked"}
    db.session.expire_all()
    assert len(db.session.execute(db.select(Link).where(Link.ended_at.is_(None),
                                                        Link.user_id == find_local_user("newstaff").id)).all()) == 1
