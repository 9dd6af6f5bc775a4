"""`edlink seed-demo` gives SER's personas students to work with, in every state the issue names."""
from __future__ import annotations

from edlink import clock
from edlink.demo import seed
from edlink.extensions import db
from ser_core.access import find_student
from ser_core.models import RegistryStudent
from tests.conftest import login


def _ids(resp):
    assert resp.status_code == 200, resp.get_json()
    return {s["state_id"]: s for s in resp.get_json()["students"]}


def test_demo_students_for_the_ser_personas(demo, client):
    login(client, "serreader")
    mine = _ids(client.get("/api/v1/ser/students?inactive=true"))
    assert set(mine) == {"1000100001", "1000100002", "1000100005", "1000100007",
                         "1000100008"}  # Quinn: SER part 2's exited student (ser_core.demo_ieps)
    assert mine["1000100002"]["school"] == "NP1011"  # the nonpublic school 101 serves
    assert mine["1000100007"]["school"] == "EC1012"  # the early-childhood centre 101 serves
    assert mine["1000100005"]["inactive"] is True
    assert "1000100005" not in _ids(client.get("/api/v1/ser/students"))
    avery = client.get("/api/v1/ser/students/1000100001/evaluations").get_json()["evaluations"]
    assert [e["kind"] for e in avery] == ["initial"] and avery[0]["exceptionalities"][0]["code"] == "Autism"
    client.post("/logout")
    login(client, "serwriter")
    refused = client.post("/api/v1/ser/students/1000100003/jurisdiction",
                          json={"school_code": "101001", "begin_date": clock.today().isoformat()})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "open_services"
    found = client.get("/api/v1/ser/registry/1000100003").get_json()["in_ser"]
    assert found["open_services"] is True and found["lea"] == "102"
    assert client.get("/api/v1/ser/registry/1000100006").get_json()["in_ser"] is None  # to add
    client.post("/logout")
    login(client, "secureid")
    assert client.get("/api/v1/ser/students/1000100001/secure-id").status_code == 200


def test_the_ser_demo_logins_sign_in(demo):
    from edlink.demo import SER_DEMO_LOGINS
    assert [u for u, _, _ in SER_DEMO_LOGINS] == ["serreader", "serwriter", "secureid", "harborwriter",
                                                 "iepwriter", "iepsubmitter"]
    for username, password, _ in SER_DEMO_LOGINS:
        client = demo.test_client()
        login(client, username, password)
        assert client.get("/ser/students").status_code == 200


def test_seeding_twice_changes_nothing(demo):
    before = db.session.execute(db.select(db.func.count()).select_from(RegistryStudent)).scalar_one()
    assert "students added 0" in seed(full=True)
    db.session.commit()
    assert db.session.execute(db.select(db.func.count()).select_from(RegistryStudent)).scalar_one() == before == 8
    assert find_student("1000100004").lea.code == "102"
