"""audit.record: events join the caller's transaction, numbered without gaps."""
import pytest

import audit
from audit.chain import GENESIS, event_hash
from audit.models import AuditEvent
from edlink.extensions import db


def _events():
    return db.session.execute(db.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()


def test_events_are_numbered_in_order_and_chained(app):
    for i in range(3):
        audit.record("test.event", "system:test", ("thing", i), None, {"i": i})
    db.session.commit()
    events = _events()
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    key = app.config["AUDIT_KEY"].encode()
    for prev, event in zip([None, *events], events, strict=False):
        assert event.prev_hash == (prev.hash if prev else GENESIS)
        assert event.hash == event_hash(key, event.prev_hash, event)


def test_rolled_back_change_leaves_no_event_and_no_hole(app):
    audit.record("test.kept", "system:test")
    db.session.commit()
    audit.record("test.dropped", "system:test")
    db.session.rollback()
    audit.record("test.after", "system:test")
    db.session.commit()
    assert [(e.seq, e.action) for e in _events()] == [(1, "test.kept"), (2, "test.after")]


def test_event_fields(app, demo):
    from edlink.users import get_user
    user = get_user("teacher")
    event = audit.record("test.fields", user, user, "101", {"when": user.created_at})
    db.session.commit()
    stored = db.session.get(AuditEvent, event.seq)
    assert (stored.actor, stored.actor_id, stored.target_type, stored.target_id, stored.org_code) == (
        "teacher", user.id, "user_account", str(user.id), "101")
    assert stored.details["when"] == user.created_at.isoformat()
    assert stored.occurred_at.tzinfo is not None


@pytest.mark.parametrize("action", ["user.login", "link.failed"])
def test_count_filters_by_action(app, action):
    audit.record(action, "system:test")
    audit.record("other", "system:test")
    assert audit.count(action) == 1
