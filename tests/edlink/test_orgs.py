"""The organisation tree: the all-or-nothing import, the grouping rule, and GET /api/v1/orgs."""
from __future__ import annotations

import pytest

from audit.models import AuditEvent
from edlink.csvio import ImportRejected
from edlink.demo import ORGS_CSV
from edlink.extensions import db
from edlink.models import Org
from edlink.orgs import covered_org_ids, covers, get_org, import_orgs
from tests.conftest import login

HEADER = "code,name,kind,parent_code,served_by_code\n"


def org_codes() -> set[str]:
    return set(db.session.execute(db.select(Org.code)).scalars())


def codes_of(ids: set[int]) -> set[str]:
    return set(db.session.execute(db.select(Org.code).where(Org.id.in_(ids))).scalars())


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


# --- import ---------------------------------------------------------------------------------

def test_import_builds_the_tree(app):
    result = import_orgs(ORGS_CSV, actor="system:test")
    db.session.commit()

    assert result.summary() == {"created": 11, "updated": 0, "unchanged": 0}
    assert get_org("DS").kind == "state" and get_org("DS").parent is None
    lea = get_org("101")
    assert lea.kind == "lea" and lea.parent.code == "DS"
    assert get_org("101001").parent.code == "101"
    assert get_org("101001").lea.code == "101"
    nonpublic = get_org("NP1011")
    assert nonpublic.parent.code == "DS" and nonpublic.served_by.code == "101"
    assert nonpublic.lea.code == "101"
    assert get_org("EC1012").served_by.code == "101"
    assert get_org("DS").lea is None
    [event] = events("orgs.imported")
    assert event.actor == "system:test"
    assert sorted(event.details["created"]) == sorted(ALL_DEMO)
    assert event.details["updated"] == []


def test_reimport_reports_unchanged_then_updated(app):
    import_orgs(ORGS_CSV)
    db.session.commit()

    again = import_orgs(ORGS_CSV)
    assert again.summary() == {"created": 0, "updated": 0, "unchanged": 11}

    renamed = ORGS_CSV.replace("Harbor City Schools", "Harbor City Public Schools")
    # EC1012 moves from 101's care to 102's
    renamed = renamed.replace("early_childhood,DS,101", "early_childhood,DS,102")
    changed = import_orgs(renamed + "104,New Parish Schools,lea,DS,\n")
    db.session.commit()
    assert changed.created == ["104"]
    assert sorted(changed.updated) == ["102", "EC1012"]
    assert len(changed.unchanged) == 9
    assert get_org("102").name == "Harbor City Public Schools"
    assert get_org("EC1012").served_by.code == "102"
    assert get_org("EC1012").id in covered_org_ids(get_org("102"))
    assert get_org("EC1012").id not in covered_org_ids(get_org("101"))


def test_nonpublic_under_an_lea_is_served_by_it_by_default(app):
    import_orgs(HEADER + "DS,State,state,,\n101,LEA,lea,DS,\nNP1,Academy,nonpublic,101,\n")
    assert get_org("NP1").served_by.code == "101"
    assert get_org("NP1").id in covered_org_ids(get_org("101"))


BAD_ROWS = [
    ("X1,Mystery,district,DS,", "unknown kind 'district'"),
    ("X1,School under state,school,DS,", "a school's parent must be lea"),
    ("X1,LEA under LEA,lea,101,", "a lea's parent must be state"),
    ("X1,Second state,state,DS,", "a state's parent must be none"),
    ("X1,Academy,nonpublic,DS,", "served_by_code (the LEA that serves it) is required"),
    ("X1,Centre,early_childhood,DS,", "served_by_code (the LEA that serves it) is required"),
    ("X1,Academy,nonpublic,DS,101001", "served_by_code 101001 is not an LEA"),
    ("X1,Academy,nonpublic,DS,DS", "served_by_code DS is not an LEA"),
    ("X1,Academy,nonpublic,DS,999", "served_by_code 999 is not an LEA"),
    ("X1,School,school,999,", "unknown parent_code 999"),
    ("X1,School,school,101,102", "only nonpublic schools and early-childhood centres have served_by_code"),
    (",No code,school,101,", "code and name are required"),
    ("101,Duplicate of line 2,lea,DS,", "code 101 appears twice in the file"),
]


@pytest.mark.parametrize("bad_row, reason", BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_one_bad_row_rejects_the_whole_file(app, bad_row, reason):
    import_orgs(HEADER + "DS,State,state,,\n")
    db.session.commit()
    before = org_codes()
    text = HEADER + "101,Good LEA,lea,DS,\n101001,Good school,school,101,\n" + bad_row + "\n"

    with pytest.raises(ImportRejected) as info:
        import_orgs(text)
    db.session.rollback()

    errors = info.value.errors
    assert {e.line for e in errors} == {4}
    assert any(reason in e.reason for e in errors), [e.reason for e in errors]
    assert info.value.code == "import_rejected" and info.value.status == 422
    assert "line 4" in info.value.message
    assert info.value.fields["rows"] == [e.as_dict() for e in errors]
    assert org_codes() == before  # the good rows were not applied either
    assert len(events("orgs.imported")) == 1  # only the first, good import


def test_every_bad_row_is_named(app):
    text = (HEADER + "DS,State,state,,\n"
            "101,LEA,lea,DS,\n"
            "X1,Mystery,district,DS,\n"
            "101001,School,school,DS,\n"
            "NP1,Academy,nonpublic,DS,\n")
    with pytest.raises(ImportRejected) as info:
        import_orgs(text)
    assert [(e.line, e.key) for e in info.value.errors] == [(4, "X1"), (5, "101001"), (6, "NP1")]
    db.session.rollback()
    assert org_codes() == set()


def test_a_second_state_is_refused(app):
    import_orgs(HEADER + "DS,State,state,,\n")
    db.session.commit()
    with pytest.raises(ImportRejected) as info:
        import_orgs(HEADER + "DS2,Another state,state,,\n")
    [row] = info.value.errors
    assert (row.line, row.key) == (2, "DS2")
    assert "only one state" in row.reason
    db.session.rollback()
    assert org_codes() == {"DS"}


def test_a_file_without_the_required_columns_is_refused(app):
    from edlink.errors import DomainError
    with pytest.raises(DomainError) as info:
        import_orgs("code,name\nDS,State\n")
    assert info.value.code == "bad_header"
    assert "kind" in info.value.message


# --- the grouping rule ----------------------------------------------------------------------

ALL_DEMO = {"DS", "101", "102", "103", "101001", "101002", "102001", "102002", "103001",
            "NP1011", "EC1012"}

COVERAGE = {
    "DS": ALL_DEMO,
    "101": {"101", "101001", "101002", "NP1011", "EC1012"},
    "102": {"102", "102001", "102002"},
    "103": {"103", "103001"},
    "101001": {"101001"},
    "NP1011": {"NP1011"},
    "EC1012": {"EC1012"},
}


@pytest.mark.parametrize("code", sorted(COVERAGE))
def test_covered_org_ids_follows_the_grouping_rule(app, code):
    import_orgs(ORGS_CSV)
    assert codes_of(covered_org_ids(get_org(code))) == COVERAGE[code]


def _assert_covers_agrees_with_covered_org_ids():
    orgs = list(db.session.execute(db.select(Org)).scalars())
    for grant_org in orgs:
        covered = covered_org_ids(grant_org)
        for target in orgs:
            assert covers(grant_org, target) == (target.id in covered), (grant_org.code, target.code)


def test_covers_answers_like_covered_org_ids(app):
    import_orgs(ORGS_CSV)
    _assert_covers_agrees_with_covered_org_ids()
    assert covers(get_org("101"), get_org("NP1011"))
    assert not covers(get_org("102"), get_org("NP1011"))
    assert not covers(get_org("101"), get_org("102001"))
    assert not covers(get_org("101001"), get_org("101"))
    assert not covers(get_org("101001"), get_org("101002"))
    assert not covers(get_org("101"), get_org("DS"))
    assert covers(get_org("DS"), get_org("EC1012"))


def test_a_site_filed_under_one_lea_but_served_by_another_belongs_to_the_one_serving_it(app):
    """served_by decides the grouping, whatever the administrative parent is."""
    import_orgs(ORGS_CSV + "NP1021,Bayside Academy,nonpublic,102,101\n")
    site = get_org("NP1021")
    assert site.lea.code == "101"
    assert site.id in covered_org_ids(get_org("101"))
    assert site.id not in covered_org_ids(get_org("102"))
    assert site.id in covered_org_ids(get_org("DS"))
    _assert_covers_agrees_with_covered_org_ids()


# --- the API --------------------------------------------------------------------------------

def test_api_lists_the_tree(demo, client):
    assert client.get("/api/v1/orgs").status_code == 401
    login(client, "teacher")
    resp = client.get("/api/v1/orgs")
    assert resp.status_code == 200
    orgs = resp.get_json()["orgs"]
    assert orgs[0] == {"code": "DS", "name": "Demo State Department of Education", "kind": "state",
                       "parent": None, "served_by": None}
    by_code = {o["code"]: o for o in orgs}
    assert set(by_code) == ALL_DEMO
    assert by_code["101001"] == {"code": "101001", "name": "Pinecrest High School", "kind": "school",
                                 "parent": "101", "served_by": None}
    assert by_code["NP1011"]["served_by"] == "101"
    assert by_code["EC1012"]["kind"] == "early_childhood"
    assert [o["code"] for o in orgs[1:]] == sorted(o["code"] for o in orgs[1:])
