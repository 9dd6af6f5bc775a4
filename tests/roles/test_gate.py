"""The gate: permissions from roles (with implications), scope from the org tree, time windows."""
from datetime import timedelta

import pytest

from edlink import clock
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles import gate
from roles.catalog import CatalogError, packaged, parse
from roles.grants import create_grant


def test_catalog_loads_with_the_stable_codes():
    catalog = packaged()
    for code in ["edlink.state_admin", "edlink.security_coordinator", "edlink.data_manager",
                 "edlink.auditor", "eser.sped_supervisor", "eser.reader", "eser.writer",
                 "eser.iep_forms", "eser.iep_submit", "eser.secure_id"]:
        assert catalog.role(code).description
    assert "eser.student.read" in catalog.effective["eser.writer"]  # writer implies reader
    assert catalog.role("eser.secure_id").max_holders_per_lea == 2
    assert catalog.role("eser.iep_forms").requires_statement


def test_catalog_rejects_cycles_unknown_permissions_and_double_tas_codes():
    base = """[applications.a]\nname="A"\n[permissions]\n"p" = "P"\n"""
    role = """[roles."{c}"]\nname="{c}"\napplication="a"\nscope=["lea"]\npermissions=["{p}"]\n""" \
           """implies=[{i}]\ntas_codes=["{t}"]\n"""
    with pytest.raises(CatalogError, match="cycle"):
        parse(base + role.format(c="x", p="p", i='"y"', t="T1") + role.format(c="y", p="p", i='"x"', t="T2"))
    with pytest.raises(CatalogError, match="unknown permission"):
        parse(base + role.format(c="x", p="nope", i="", t="T1"))
    with pytest.raises(CatalogError, match="mapped to both"):
        parse(base + role.format(c="x", p="p", i="", t="T1") + role.format(c="y", p="p", i="", t="T1"))


def test_grant_at_lea_covers_its_schools_and_served_sites_only(demo):
    teacher = get_user("teacher")
    create_grant(teacher, "eser.writer", get_org("101"), source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    for code in ["101", "101001", "101002", "NP1011", "EC1012"]:
        assert gate.can("eser.student.read", get_org(code), teacher), code  # implied by writer
        assert gate.can("eser.student.write", get_org(code), teacher), code
    for code in ["102", "102001", "103001", "DS"]:
        assert not gate.can("eser.student.read", get_org(code), teacher), code
    assert not gate.can("eser.iep.edit", get_org("101"), teacher)
    ids = gate.orgs_with("eser.student.write", teacher)
    assert ids == {get_org(c).id for c in ["101", "101001", "101002", "NP1011", "EC1012"]}


def test_site_grant_covers_only_that_site_and_state_grant_covers_all(demo):
    teacher, admin = get_user("teacher"), get_user("stateadmin")
    create_grant(teacher, "eser.reader", get_org("101002"), source="demo", granted_by=None, actor="system:test")
    assert gate.can("eser.student.read", get_org("101002"), teacher)
    assert not gate.can("eser.student.read", get_org("101"), teacher)
    assert not gate.can("eser.student.read", get_org("101001"), teacher)
    assert all(gate.can("edlink.staff.manage", get_org(c), admin) for c in ["DS", "102", "NP1011", "103001"])


def test_scope_level_is_enforced(demo):
    with pytest.raises(Exception, match="level"):
        create_grant(get_user("teacher"), "eser.secure_id", get_org("101001"), source="demo",
                     granted_by=None, actor="system:test")


def test_grant_ends_when_its_end_passes_and_disabled_users_have_nothing(demo):
    teacher = get_user("teacher")
    create_grant(teacher, "eser.reader", get_org("101"), source="demo", granted_by=None,
                 actor="system:test", ends_at=clock.now() + timedelta(days=1))
    assert gate.can("eser.student.read", get_org("101"), teacher)
    clock.advance(timedelta(days=2))
    assert not gate.can("eser.student.read", get_org("101"), teacher)
    clock.set_now(None)
    teacher.disabled = True
    assert not gate.can("eser.student.read", get_org("101"), teacher)
