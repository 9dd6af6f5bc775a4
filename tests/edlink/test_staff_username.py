"""Data managers set or clear the identity username on a staff record (API and page).

Changing the username of a linked record ends the link; every change is kept as history.
"""
from __future__ import annotations

import pytest

from audit.models import AuditEvent
from edlink.extensions import db
from edlink.models import Link, StaffChange, StaffRecord
from edlink.staff import get_staff
from edlink.users import find_local_user
from tests.conftest import login


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """The demo users' argon2 hashes dominate set-up time; these tests are not about them."""
    from argon2 import PasswordHasher
    monkeypatch.setattr("edlink.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def put(client, staff_id: str, username, **kwargs):
    return client.put(f"/api/v1/staff/{staff_id}/username", json={"username": username}, **kwargs)


def username_changes(staff_id: str) -> list[StaffChange]:
    return list(db.session.execute(
        db.select(StaffChange).join(StaffRecord, StaffChange.staff_record_id == StaffRecord.id)
        .where(StaffRecord.staff_id == staff_id, StaffChange.field == "username")
        .order_by(StaffChange.id)).scalars())


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


def count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


# --- the API --------------------------------------------------------------------------------

def test_data_manager_sets_and_clears_a_username(demo, client):
    login(client, "datamanager")
    resp = put(client, "1000000008", "  Pending.Hire ")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["username"] == "Pending.Hire"
    record = get_staff("1000000008")
    assert record.username == "Pending.Hire" and record.username_key == "pending.hire"

    [change] = username_changes("1000000008")
    assert (change.old_value, change.new_value) == (None, "Pending.Hire")
    assert change.changed_by.username == "datamanager" and change.source == "api"
    [event] = events("staff.username_set")
    assert event.actor == "datamanager" and event.target_id == "1000000008" and event.org_code == "101"
    assert event.details["from"] is None and event.details["to"] == "Pending.Hire"

    resp = put(client, "1000000008", None)
    assert resp.status_code == 200 and resp.get_json()["username"] is None
    assert get_staff("1000000008").username_key is None
    assert [(c.old_value, c.new_value) for c in username_changes("1000000008")][-1] == ("Pending.Hire", None)

    put(client, "1000000008", "pending.hire")
    resp = put(client, "1000000008", "   ")
    assert resp.status_code == 200 and resp.get_json()["username"] is None
    assert len(username_changes("1000000008")) == 4
    assert len(events("staff.username_set")) == 4


def test_setting_the_same_username_changes_nothing(demo, client):
    login(client, "datamanager")
    before = (count(StaffChange), count(AuditEvent))
    resp = put(client, "1000000001", "newstaff")
    assert resp.status_code == 200
    assert (count(StaffChange), count(AuditEvent)) == before


@pytest.mark.parametrize("taken", ["teacher", "TEACHER", " Teacher "])
def test_a_username_on_another_record_is_refused(demo, client, taken):
    login(client, "datamanager")
    before = (count(StaffChange), count(AuditEvent))
    resp = put(client, "1000000008", taken)
    assert resp.status_code == 409
    error = resp.get_json()["error"]
    assert error["code"] == "username_in_use"
    assert "1000000002" not in error["message"] and "Teacher" not in error["message"]
    assert get_staff("1000000008").username is None
    assert (count(StaffChange), count(AuditEvent)) == before


@pytest.mark.parametrize("bad", ["two words", "x" * 151])
def test_a_malformed_username_is_refused(demo, client, bad):
    login(client, "datamanager")
    resp = put(client, "1000000008", bad)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "invalid_username"
    assert get_staff("1000000008").username is None


def test_the_body_needs_a_username_field(demo, client):
    login(client, "datamanager")
    resp = client.put("/api/v1/staff/1000000008/username", json={})
    assert resp.status_code == 422
    assert "username" in resp.get_json()["error"]["fields"]


@pytest.mark.parametrize("who, staff_id, status, code", [
    ("teacher", "1000000008", 404, "unknown_staff_id"),  # may not even see the directory
    ("coordinator", "1000000008", 403, "forbidden"),  # sees it, may not change it
    ("auditor", "1000000008", 403, "forbidden"),
    ("datamanager", "1000000011", 404, "unknown_staff_id"),  # 102's record: not in scope
    ("datamanager", "1000000006", 404, "unknown_staff_id"),  # the state's own staff
    ("datamanager", "9999999999", 404, "unknown_staff_id"),
])
def test_only_the_records_data_manager_may_change_it(demo, client, who, staff_id, status, code):
    login(client, who)
    before = (count(StaffChange), count(AuditEvent))
    resp = put(client, staff_id, "someone.new")
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code
    assert (count(StaffChange), count(AuditEvent)) == before
    assert db.session.execute(db.select(StaffRecord).where(
        StaffRecord.username_key == "someone.new")).first() is None


def test_the_state_administrator_may_change_any_record(demo, client):
    login(client, "stateadmin")
    assert put(client, "1000000011", "harbor.teacher").status_code == 200
    assert get_staff("1000000011").username == "harbor.teacher"


def test_unauthenticated_and_csrf(demo, client):
    assert put(client, "1000000008", "x").status_code == 401
    login(client, "datamanager")
    resp = put(client, "1000000008", "x", csrf=False)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    assert get_staff("1000000008").username is None


def test_changing_a_linked_records_username_ends_the_link(demo, client):
    teacher = find_local_user("teacher")
    link = teacher.active_link
    assert link is not None and link.staff_record.staff_id == "1000000002"

    login(client, "datamanager")
    resp = put(client, "1000000002", "teacher.renamed")
    assert resp.status_code == 200

    db.session.expire_all()
    assert teacher.active_link is None
    ended = db.session.get(Link, link.id)
    assert ended.ended_at is not None and "username" in ended.ended_reason
    [removed] = events("link.removed")
    assert removed.actor == "datamanager" and removed.org_code == "101"
    assert removed.details["user"] == "teacher" and removed.details["staff_id"] == "1000000002"
    assert [(c.old_value, c.new_value) for c in username_changes("1000000002")][-1] == \
        ("teacher", "teacher.renamed")

    other = demo.test_client()
    login(other, "teacher")
    me = other.get("/api/v1/me").get_json()
    assert me["linked"] is False and me["staff"] is None
    # the old link cannot simply be made again: the record no longer names the user
    resp = other.post("/api/v1/me/link", json={"staff_id": "1000000002"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "link_mismatch"


def test_clearing_a_linked_records_username_ends_the_link(demo, client):
    login(client, "datamanager")
    assert put(client, "1000000002", "").status_code == 200
    assert find_local_user("teacher").active_link is None
    assert len(events("link.removed")) == 1


def test_history_is_kept_across_changes_and_shown(demo, client):
    login(client, "datamanager")
    for value in ("first.name", "second.name", None):
        assert put(client, "1000000009", value).status_code == 200
    body = client.get("/api/v1/staff/1000000009").get_json()
    usernames = [(h["from"], h["to"]) for h in body["history"] if h["field"] == "username"]
    assert usernames == [("second.name", None), ("first.name", "second.name"), (None, "first.name")]
    assert all(h["by"] == "datamanager" for h in body["history"] if h["field"] == "username")


# --- the page -------------------------------------------------------------------------------

def post_form(client, staff_id: str, username: str, **kwargs):
    data = {"username": username, "csrf_token": client.csrf_token(), **kwargs}
    return client.post(f"/staff/{staff_id}", data=data)


def test_page_shows_the_record_and_the_form(demo, client):
    login(client, "datamanager")
    resp = client.get("/staff/1000000002")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Demo Teacher" in page and "teacher since" in page
    assert 'aria-label="Set username"' in page
    assert '<label class="form-label" for="username">' in page


def test_page_sets_the_username(demo, client):
    login(client, "datamanager")
    resp = post_form(client, "1000000002", "teacher.page")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/staff/1000000002")
    page = client.get("/staff/1000000002").get_data(as_text=True)
    assert "The username is saved." in page
    assert "teacher.page" in page and "not linked" in page
    [change] = username_changes("1000000002")[-1:]
    assert change.new_value == "teacher.page" and change.source == "page"
    assert change.changed_by.username == "datamanager"
    assert find_local_user("teacher").active_link is None
    assert len(events("link.removed")) == 1


def test_page_clears_the_username(demo, client):
    login(client, "datamanager")
    resp = post_form(client, "1000000001", "")
    assert resp.status_code == 302
    assert "The username is cleared." in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert get_staff("1000000001").username is None


def test_page_shows_a_conflict_on_the_form(demo, client):
    login(client, "datamanager")
    before = count(AuditEvent)
    resp = post_form(client, "1000000001", "Teacher")
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "already on another person" in page and 'aria-invalid="true"' in page
    assert get_staff("1000000001").username == "newstaff"
    assert count(AuditEvent) == before


def test_page_refuses_spaces(demo, client):
    login(client, "datamanager")
    resp = post_form(client, "1000000001", "two words")
    assert resp.status_code == 422
    assert get_staff("1000000001").username == "newstaff"


def test_page_needs_the_csrf_token(demo, client):
    login(client, "datamanager")
    resp = client.post("/staff/1000000001", data={"username": "x"}, csrf=False)
    assert resp.status_code == 400
    assert "Form expired" in resp.get_data(as_text=True)
    assert get_staff("1000000001").username == "newstaff"


@pytest.mark.parametrize("who, get_status, post_status", [
    ("teacher", 403, 403), ("coordinator", 200, 403)])
def test_page_is_for_the_data_manager(demo, client, who, get_status, post_status):
    login(client, who)
    resp = client.get("/staff/1000000001")
    assert resp.status_code == get_status
    if get_status == 200:
        assert 'aria-label="Set username"' not in resp.get_data(as_text=True)
    assert post_form(client, "1000000001", "stolen").status_code == post_status
    assert get_staff("1000000001").username == "newstaff"


def test_page_hides_another_systems_record(demo, client):
    login(client, "datamanager")
    assert client.get("/staff/1000000011").status_code == 404
    assert post_form(client, "1000000011", "x").status_code == 404
    assert get_staff("1000000011").username is None
