"""Approved access pushed into Keycloak (the admin-API stand-in), retried while Keycloak is down,
and reconciled: a hand-added mapping is removed and the correction recorded."""
from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from edlink import clock, jobs
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.models import Grant, ProvisioningTask
from roles.queries import grant_view
from tests.idp.admin_standin import AdminStandIn
from workflows import attestations, decisions
from workflows.requests import submit
from workflows.revocation import revoke_grant

ROLE = "eser.reader@101002"


@pytest.fixture
def keycloak():
    server = AdminStandIn().start()
    server.add_client("eser")
    for username in ("teacher", "coordinator", "supervisor"):
        server.add_user(username)
    yield server
    server.stop()


@pytest.fixture
def kc(demo, make_app, keycloak):
    """EdLink with EDLINK_IDP=keycloak on the demo database, its admin calls going to the stand-in."""
    return make_app(**keycloak.app_settings())


def approved_reader():
    """The teacher's request for SER Data Reader at 101002, approved in both stages."""
    request = submit(get_user("teacher"), "eser.reader", get_org("101002"), "I teach students with IEPs.")
    db.session.commit()
    decisions.approve(get_user("supervisor"), request, "ok")
    db.session.commit()
    decisions.approve(get_user("coordinator"), request, "ok")
    db.session.commit()
    return db.session.execute(db.select(Grant).where(
        Grant.user_id == get_user("teacher").id, Grant.role_code == "eser.reader",
        Grant.status == "active")).scalar_one()


def test_approve_pushes_the_role_and_revoke_removes_it(kc, keycloak):
    grant = approved_reader()
    assert grant_view(grant)["keycloak"] == "pending"
    assert keycloak.roles_of("teacher", "eser") == set()  # written in the grant's transaction, pushed by the job
    result = jobs.run("provisioning.push")
    assert result == {"assigned": 1, "removed": 0, "waiting": 0}, [
        t.last_error for t in db.session.execute(db.select(ProvisioningTask)).scalars()]
    assert keycloak.roles_of("teacher", "eser") == {ROLE}
    assert grant_view(db.session.get(Grant, grant.id))["keycloak"] is None
    revoke_grant(get_user("coordinator"), grant.id, "changed duties")
    db.session.commit()
    jobs.run("provisioning.push")
    assert keycloak.roles_of("teacher", "eser") == set()
    assert keycloak.changes == [("add", "teacher", ROLE), ("remove", "teacher", ROLE)]
    assert jobs.run("provisioning.push") == {"assigned": 0, "removed": 0, "waiting": 0}  # nothing left


def test_keycloak_down_delays_both_pushes_and_loses_or_doubles_nothing(kc, keycloak):
    keycloak.stop()
    grant = approved_reader()
    assert jobs.run("provisioning.push")["waiting"] == 1
    task = db.session.execute(db.select(ProvisioningTask)).scalars().one()
    assert task.status == "pending" and task.attempts == 1 and "Keycloak" in task.last_error
    revoke_grant(get_user("coordinator"), grant.id, "left")
    db.session.commit()
    clock.advance(timedelta(minutes=5))
    jobs.run("provisioning.push")  # still down: waits again
    keycloak.start()  # back, on the same address
    clock.advance(timedelta(hours=2))
    assert jobs.run("provisioning.push") == {"assigned": 0, "removed": 1, "waiting": 0}
    assert keycloak.roles_of("teacher", "eser") == set()
    # then a new approval while it is up: exactly one assignment
    grant2 = approved_reader()
    keycloak.stop()
    jobs.run("provisioning.push")
    keycloak.start()
    clock.advance(timedelta(hours=2))
    jobs.run("provisioning.push")
    jobs.run("provisioning.push")
    assert keycloak.roles_of("teacher", "eser") == {ROLE}
    assert keycloak.changes == [("add", "teacher", ROLE)]
    assert db.session.get(Grant, grant2.id).status == "active"
    assert all(t.status == "done" for t in db.session.execute(db.select(ProvisioningTask)).scalars())


def test_a_person_without_a_keycloak_account_is_pending_until_they_have_one(kc, keycloak):
    from roles.grants import create_grant
    grant = create_grant(get_user("datamanager"), "eser.reader", get_org("101"), source="request", granted_by=None,
                         actor="system:test")
    db.session.commit()
    assert jobs.run("provisioning.push")["waiting"] == 1
    assert grant_view(db.session.get(Grant, grant.id))["keycloak"] == "pending"
    keycloak.add_user("datamanager")
    clock.advance(timedelta(hours=2))
    assert jobs.run("provisioning.push")["assigned"] == 1
    assert keycloak.roles_of("datamanager", "eser") == {"eser.reader@101"}


def test_reconciliation_removes_a_hand_added_mapping_and_records_it(kc, keycloak):
    approved_reader()
    jobs.run("provisioning.push")
    keycloak.map_by_hand("supervisor", "eser", "eser.writer@101")      # added by hand in Keycloak
    keycloak.mappings.clear()                                          # and the real one lost
    keycloak.map_by_hand("supervisor", "eser", "eser.writer@101")
    # the demo's supervisor grant was made before Keycloak was configured: reconciliation adds it too
    assert jobs.run("provisioning.reconcile") == {"added": 2, "removed": 1, "unknown_users": 0}
    assert keycloak.roles_of("supervisor", "eser") == {"eser.sped_supervisor@101"}
    assert keycloak.roles_of("teacher", "eser") == {ROLE}
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "provisioning.corrected")
                                .order_by(AuditEvent.seq)).scalars().all()
    assert {(e.details["change"], e.details["username"], e.details["role"]) for e in events} == {
        ("removed", "supervisor", "eser.writer@101"), ("added", "teacher", ROLE),
        ("added", "supervisor", "eser.sped_supervisor@101")}
    assert not db.session.execute(db.select(Grant).where(Grant.user_id == get_user("supervisor").id,
                                                         Grant.role_code == "eser.writer")).first()  # never imported
    assert jobs.run("provisioning.reconcile") == {"added": 0, "removed": 0, "unknown_users": 0}


def test_without_keycloak_nothing_is_queued(demo):
    from roles.grants import create_grant
    create_grant(get_user("teacher"), "eser.reader", get_org("101"), source="request", granted_by=None,
                 actor="system:test")
    db.session.commit()
    assert db.session.execute(db.select(ProvisioningTask)).first() is None
    assert jobs.run("provisioning.push") == {"skipped": "EDLINK_IDP is not keycloak"}


_ = attestations
