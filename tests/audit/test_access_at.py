"""Point in time: who could do P at O at T, and what could X do at T, rebuilt from history."""
import datetime as dt

import pytest

from edlink.extensions import db
from edlink.orgs import import_orgs
from roles.grants import restore, revoke, suspend
from tests.audit.reports_support import A, at, grant, login, read_csv, seed_demo

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def history(app, client):
    """Reader for the teacher at 101002 (A), suspended (A+1d), restored (A+2d), revoked (A+3d); the
    data manager holds Reader at LEA 102 from A-1d; 101002 moves from LEA 101 to LEA 102 at A+4d."""
    seed_demo()
    at(A - D)
    grant("datamanager", "eser.reader", "102")
    at(A)
    g = grant("teacher", "eser.reader", "101002")
    at(A + D)
    suspend(g, actor="system:test", reason="statement lapsed")
    db.session.commit()
    at(A + 2 * D)
    restore(g, actor="system:test", reason="statement signed")
    db.session.commit()
    at(A + 3 * D)
    revoke(g, actor="system:test", reason="left the school")
    db.session.commit()
    at(A + 4 * D)
    import_orgs("code,name,kind,parent_code,served_by_code\n101002,Pinecrest Elementary School,school,102,\n",
                actor="system:test")
    db.session.commit()
    at(A + 5 * D)
    login(client, "auditor")
    return client


def who(client, when, permission="eser.student.read", org="101002"):
    resp = client.get(f"/api/v1/reports/access-at?permission={permission}&org={org}&at={when.isoformat()}")
    assert resp.status_code == 200, resp.get_json()
    return [(r["Username"], r["Granted At"], r["Covers Because"]) for r in resp.get_json()["rows"]]


SUPERVISOR = ("supervisor", "101", "101 covers 101002")
TEACHER = ("teacher", "101002", "at the org itself")
DATAMANAGER = ("datamanager", "102", "102 covers 101002")


@pytest.mark.parametrize(("offset", "expected"), [
    (-2 * D, [SUPERVISOR]),                      # before the teacher's grant; 101002 under 101
    (H, [SUPERVISOR, TEACHER]),                  # granted
    (D + H, [SUPERVISOR]),                       # suspended
    (2 * D + H, [SUPERVISOR, TEACHER]),          # restored
    (3 * D + H, [SUPERVISOR]),                   # revoked
    (4 * D + H, [DATAMANAGER]),                  # moved: now LEA 102's school
])
def test_who_could_read_students_at_the_school_then(history, offset, expected):
    assert sorted(who(history, A + offset)) == sorted(expected)


def test_the_instant_of_a_change_counts_from_then(history):
    assert TEACHER in who(history, A)             # in force from its first instant
    assert TEACHER not in who(history, A + D)     # suspended at that instant
    assert who(history, A + 4 * D) == [DATAMANAGER]


def test_what_could_the_teacher_do_then(history):
    def what(when):
        resp = history.get(f"/api/v1/reports/access-at?user=teacher&at={when.isoformat()}")
        assert resp.status_code == 200, resp.get_json()
        return [(r["Role"], r["Org Code"], r["Status Then"], r["In Force"], r["Why Not"], r["Permissions"])
                for r in resp.get_json()["rows"]]
    reader = ("SER Data Reader", "101002")
    perms = "eser.report.run; eser.student.read"
    assert what(A - D) == []
    assert what(A + H) == [(*reader, "Active", "Yes", "", perms)]
    assert what(A + D + H) == [(*reader, "Suspended", "No", "suspended then", perms)]
    assert what(A + 2 * D + H) == [(*reader, "Active", "Yes", "", perms)]
    assert what(A + 3 * D + H) == []
    by_number = history.get(f"/api/v1/reports/access-at?user=20000002&at={(A + H).isoformat()}").get_json()
    assert by_number["count"] == 1 and by_number["scope"].startswith("teacher")


def test_csv_and_errors(history):
    resp = history.get("/api/v1/reports/access-at?permission=eser.student.read&org=101002"
                       f"&at={(A + H).date()}&format=csv")
    assert resp.status_code == 200
    table = read_csv(resp.data)
    assert table[0][:3] == ["Username", "Last Name", "First Name"]
    assert sorted(r[0] for r in table[1:]) == ["supervisor"]  # A's first instant: before the teacher's grant
    for query, code in (("permission=eser.student.read&org=101002", 422),                 # no at
                        ("permission=nope&org=101002&at=2027-01-04", 422),
                        ("permission=eser.student.read&org=101002&at=yesterday", 422),
                        ("permission=eser.student.read&org=101002&at=2099-01-01", 422),     # the future
                        ("permission=eser.student.read&org=NOPE&at=2027-01-04", 404),
                        ("user=nobody&at=2027-01-04", 404)):
        got = history.get(f"/api/v1/reports/access-at?{query}")
        assert got.status_code == code, (query, got.get_json())
        assert got.get_json()["error"]["code"]


def test_an_lea_coordinator_asks_only_about_their_own_orgs(history):
    login(history, "coordinator")
    assert history.get("/api/v1/reports/access-at?permission=eser.student.read&org=102001"
                       f"&at={(A + H).isoformat()}").status_code == 403
    rows = history.get(f"/api/v1/reports/access-at?user=datamanager&at={(A + H).isoformat()}").get_json()["rows"]
    assert rows and all(not r["Org Code"].startswith("102") for r in rows)  # the 102 grant is not theirs to see
