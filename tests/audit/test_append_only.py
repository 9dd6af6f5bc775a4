"""The audit table is append-only: the database refuses UPDATE, DELETE (and TRUNCATE on
PostgreSQL) from raw SQL, and the ORM refuses to change or remove an event."""
import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import IntegrityError

import audit
from audit.models import AppendOnlyError, AuditEvent
from audit.verify import verify
from edlink.extensions import db
from tests.audit.tamper import dialect, trail
from tests.conftest import DB_KIND

REFUSED = "audit_event is append-only"


def intact(app, count):
    result = verify(app.config["AUDIT_KEY"])
    assert (result.ok, result.count) == (True, count), result
    return result


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET action = 'grant.created' WHERE seq = 2",
    "UPDATE audit_event SET hash = prev_hash",
    "DELETE FROM audit_event WHERE seq = 3",
    "DELETE FROM audit_event",
])
def test_raw_update_and_delete_are_refused(app, statement):
    trail(3)
    with pytest.raises(IntegrityError, match=REFUSED):
        db.session.execute(text(statement))
    db.session.rollback()
    intact(app, 3)


@pytest.mark.skipif(DB_KIND == "sqlite", reason="SQLite has no TRUNCATE")
def test_raw_truncate_is_refused_on_postgresql(app):
    trail(2)
    with pytest.raises(IntegrityError, match=REFUSED):
        db.session.execute(text("TRUNCATE audit_event"))
    db.session.rollback()
    intact(app, 2)


def test_inserting_is_still_allowed(app):
    trail(2)
    audit.record("test.more", "system:test")
    db.session.commit()
    intact(app, 3)


def test_orm_refuses_to_change_an_event(app):
    trail(2)
    event = db.session.get(AuditEvent, 2)
    event.details = {"rewritten": True}
    with pytest.raises(AppendOnlyError, match="changing event 2"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, 2).details != {"rewritten": True}
    intact(app, 2)


def test_orm_refuses_to_delete_an_event(app):
    trail(2)
    db.session.delete(db.session.get(AuditEvent, 1))
    with pytest.raises(AppendOnlyError, match="deleting event 1"):
        db.session.flush()
    db.session.rollback()
    intact(app, 2)


@pytest.mark.parametrize("statement", [
    lambda: update(AuditEvent).where(AuditEvent.seq == 1).values(actor="x"),
    lambda: update(AuditEvent.__table__).values(actor="x"),
    lambda: delete(AuditEvent).where(AuditEvent.seq == 1),
    lambda: delete(AuditEvent.__table__),
], ids=["orm-update", "core-update", "orm-delete", "core-delete"])
def test_orm_refuses_bulk_update_and_delete(app, statement):
    trail(2)
    with pytest.raises(AppendOnlyError):
        db.session.execute(statement())
    db.session.rollback()
    intact(app, 2)


def test_triggers_are_installed_by_the_migration(app):
    if dialect() == "sqlite":
        names = db.session.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).scalars()
        assert set(names) == {"audit_event_no_update", "audit_event_no_delete"}
    else:
        names = db.session.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal "
            "AND tgenabled = 'O'")).scalars()
        assert set(names) == {"audit_event_no_update_delete", "audit_event_no_truncate"}


@pytest.mark.skipif(DB_KIND != "sqlite", reason="migrates the per-test SQLite copy down and up again")
def test_downgrade_removes_the_triggers_and_upgrade_restores_them(app):
    from flask_migrate import downgrade, upgrade
    trail(1)
    db.session.commit()
    downgrade(revision="0001_foundation")
    db.session.execute(text("DELETE FROM audit_event"))
    db.session.commit()
    upgrade()
    trail(1)
    with pytest.raises(IntegrityError, match=REFUSED):
        db.session.execute(text("DELETE FROM audit_event"))
    db.session.rollback()


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_starts_with_an_empty_trail(app, run):
    """Run twice in one session: the fixtures' cleaning still works with the triggers in place."""
    assert verify(app.config["AUDIT_KEY"]).count == 0
    trail(3)
    intact(app, 3)
