"""`edlink catalog sync`: validate, apply, audit each change, retire (never delete) removed roles."""
from audit.models import AuditEvent
from edlink.cli import main
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles import gate
from roles.catalog import load, packaged_text
from roles.grants import create_grant
from roles.models import CatalogRole, Grant
from roles.sync import sync


def run(app, *args):
    return app.test_cli_runner().invoke(main, list(args))


def changes():
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "catalog.changed")
                              .order_by(AuditEvent.seq)).scalars().all()


def without_role(text: str, code: str) -> str:
    start = text.index(f'[roles."{code}"]')
    end = text.find("[roles.", start + 5)
    return text[:start] + (text[end:] if end != -1 else "")


def test_first_sync_applies_every_entry_with_an_event_each_and_a_second_changes_nothing(app):
    result = run(app, "catalog", "sync")
    assert result.exit_code == 0, result.output
    n_roles = db.session.execute(db.select(db.func.count()).select_from(CatalogRole)).scalar_one()
    assert n_roles == len(load().roles) >= 11
    events = changes()
    assert {e.details["change"] for e in events} == {"added"}
    assert {(e.details["kind"], e.details["code"]) for e in events} >= {
        ("role", "eser.iep_forms"), ("permission", "eser.iep.edit"), ("application", "eser")}
    again = run(app, "catalog", "sync")
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert len(changes()) == len(events)


def test_a_removed_role_is_retired_not_deleted_and_its_grants_are_revoked(demo):
    sync()
    teacher = get_user("teacher")
    grant = create_grant(teacher, "eser.secure_id", get_org("101"), source="demo", granted_by=None,
                         actor="system:test")
    db.session.commit()
    assert gate.can(teacher, "eser.secure_id.assign", get_org("101"))
    result = sync(without_role(packaged_text(), "eser.secure_id"))
    db.session.commit()
    assert ("role", "eser.secure_id", "retired") in result.changes
    row = db.session.get(CatalogRole, "eser.secure_id")
    assert row is not None and row.retired_at is not None  # kept, so history keeps its name
    catalog = load()
    assert "eser.secure_id" not in catalog.roles and catalog.name_of("eser.secure_id") == "Secure ID Manager"
    assert db.session.get(Grant, grant.id).status == "revoked"
    assert "retired" in db.session.get(Grant, grant.id).revoked_reason
    assert not gate.can(teacher, "eser.secure_id.assign", get_org("101"))
    # putting it back restores the role (not the revoked grant)
    back = sync()
    db.session.commit()
    assert ("role", "eser.secure_id", "restored") in back.changes
    assert db.session.get(CatalogRole, "eser.secure_id").retired_at is None


def test_a_changed_role_records_what_changed(app):
    sync()
    db.session.commit()
    text = packaged_text().replace('max_holders_per_lea = 2', 'max_holders_per_lea = 3')
    result = sync(text)
    db.session.commit()
    assert result.changes == [("role", "eser.secure_id", "changed")]
    event = changes()[-1]
    assert event.details["changed"] == {"max_holders_per_lea": {"from": 2, "to": 3}}
    assert load().role("eser.secure_id").max_holders_per_lea == 3


def test_an_invalid_catalog_changes_nothing_and_says_why(app, tmp_path):
    bad = tmp_path / "catalog.toml"
    bad.write_text(packaged_text().replace('permissions = ["eser.iep.edit"]',
                                           'permissions = ["eser.iep.edit", "eser.nope"]'))
    result = run(app, "catalog", "sync", "--file", str(bad))
    assert result.exit_code != 0
    assert "unknown permission eser.nope" in result.stderr and "[catalog_invalid]" in result.stderr
    assert changes() == []
    twice = tmp_path / "twice.toml"
    twice.write_text(packaged_text().replace('tas_codes = ["SER-READ"]', 'tas_codes = ["SER-WRITE"]'))
    result = run(app, "catalog", "sync", "--file", str(twice))
    assert result.exit_code != 0 and "mapped to both" in result.stderr


def test_check_shows_changes_without_applying(app):
    result = run(app, "catalog", "sync", "--check")
    assert result.exit_code == 0 and "nothing applied" in result.output
    assert changes() == []
    assert db.session.execute(db.select(db.func.count()).select_from(CatalogRole)).scalar_one() == 0
