"""Linking a signed-in username to a staff ID: POST /api/v1/me/link, the page, GET /api/v1/me.

A link is made only when the record exists, is active and carries the caller's username
(trimmed, case-insensitive). Each refusal has its own code; every attempt is one audit event,
committed even when refused; failures are rate-limited per user.
"""
from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.models import Link, StaffRecord
from edlink.staff import Actor, get_staff, set_username
from edlink.users import create_local_user, find_local_user
from tests.conftest import login

SYSTEM = Actor("system:test", "cli")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """The demo users' argon2 hashes dominate set-up time; these tests are not about them."""
    from argon2 import PasswordHasher
    monkeypatch.setattr("edlink.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def link_events() -> list[AuditEvent]:
    return list(db.session.execute(db.select(AuditEvent).where(
        AuditEvent.action.in_(("link.created", "link.failed"))).order_by(AuditEvent.seq)).scalars())


def active_links() -> int:
    return db.session.execute(db.select(db.func.count()).select_from(Link)
                              .where(Link.ended_at.is_(None))).scalar_one()


def post_link(client, staff_id):
    return client.post("/api/v1/me/link", json={"staff_id": staff_id})


def new_user(username: str):
    user = create_local_user(username, "demo-pass-2026", actor="system:test")
    db.session.commit()
    return user


def pin_clock() -> dt.datetime:
    at = (clock.now() + dt.timedelta(minutes=1)).replace(microsecond=0)
    clock.set_now(at)
    return at


# --- success --------------------------------------------------------------------------------

def test_newstaff_links_their_account(demo, client):
    at = pin_clock()
    login(client, "newstaff")
    assert client.get("/api/v1/me").get_json()["linked"] is False

    resp = post_link(client, "1000000001")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["linked"] is True
    assert body["staff"]["staff_id"] == "1000000001" and body["staff"]["lea"] == "101"

    user = find_local_user("newstaff")
    link = user.active_link
    assert link.staff_record.staff_id == "1000000001" and link.created_at == at
    [event] = link_events()[-1:]
    assert event.action == "link.created" and event.actor == "newstaff"
    assert event.actor_id == user.id and event.org_code == "101"
    assert event.details["staff_id"] == "1000000001"

    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "newstaff" and me["linked"] is True
    assert me["staff"] == {"staff_id": "1000000001", "employee_number": "20000001",
                           "first_name": "Demo", "last_name": "New Staff", "lea": "101",
                           "sites": ["101001"], "staff_type": "Teacher", "hr_status": "active",
                           "linked_at": at.isoformat()}


@pytest.mark.parametrize("on_record, typed", [
    ("NewStaff", "1000000001"),
    ("NEWSTAFF", " 1000000001 "),
    ("newstaff", "\t1000000001\n"),
])
def test_username_match_is_trimmed_and_case_insensitive(demo, client, on_record, typed):
    set_username(get_staff("1000000001"), on_record, SYSTEM)
    db.session.commit()
    login(client, "newstaff")
    resp = post_link(client, typed)
    assert resp.status_code == 201, resp.get_json()
    assert find_local_user("newstaff").active_link.staff_record.staff_id == "1000000001"


def test_a_user_whose_provider_username_differs_in_case_links(demo, client):
    new_user("Pending.Hire")
    set_username(get_staff("1000000008"), "pending.hire", SYSTEM)
    get_staff("1000000008").status = "active"
    db.session.commit()
    login(client, "Pending.Hire")
    assert post_link(client, "1000000008").status_code == 201


# --- refusals -------------------------------------------------------------------------------

def _other_user_holds_newstaffs_record():
    """Someone else already holds 1000000001 (e.g. the username was reused at the provider)."""
    other = new_user("someone.else")
    db.session.add(Link(user_id=other.id, staff_record_id=get_staff("1000000001").id,
                        created_at=clock.now()))
    db.session.commit()


def _record_status(status: str):
    def setup():
        get_staff("1000000001").status = status
        db.session.commit()
    return setup


REFUSALS = [
    # (who, staff_id, setup, status, code)
    ("newstaff", "12345", None, 422, "invalid_staff_id"),
    ("newstaff", "10000000011", None, 422, "invalid_staff_id"),
    ("newstaff", "100000000A", None, 422, "invalid_staff_id"),
    ("newstaff", "", None, 422, "invalid_staff_id"),
    ("newstaff", "9999999999", None, 404, "unknown_staff_id"),
    ("newstaff", "1000000002", None, 403, "link_mismatch"),  # the teacher's record
    ("newstaff", "1000000011", None, 403, "link_mismatch"),  # a record with no username
    ("newstaff", "1000000008", None, 403, "link_mismatch"),  # pending, and not theirs
    ("newstaff", "1000000001", _record_status("pending_hr"), 409, "hr_not_active"),
    ("newstaff", "1000000001", _record_status("leave"), 409, "hr_not_active"),
    ("newstaff", "1000000001", _record_status("terminated"), 409, "hr_not_active"),
    ("newstaff", "1000000001", _other_user_holds_newstaffs_record, 409, "staff_already_linked"),
    ("teacher", "1000000001", None, 409, "already_linked"),
    ("teacher", "1000000002", None, 409, "already_linked"),
]


@pytest.mark.parametrize("who, staff_id, setup, status, code", REFUSALS,
                         ids=[f"{r[4]}-{r[1] or 'empty'}" for r in REFUSALS])
def test_each_refusal_has_its_code_and_is_audited(demo, client, who, staff_id, setup, status, code):
    if setup:
        setup()
    login(client, who)
    user = find_local_user(who)
    had_link = user.active_link.id if user.active_link else None
    links_before, events_before = active_links(), len(link_events())

    resp = post_link(client, staff_id)

    assert resp.status_code == status
    error = resp.get_json()["error"]
    assert error["code"] == code
    if code == "invalid_staff_id":
        assert "staff_id" in error["fields"]
    db.session.expire_all()
    assert active_links() == links_before
    assert (user.active_link.id if user.active_link else None) == had_link
    # exactly one event, and it survived the refusal (committed, not rolled back)
    events = link_events()
    assert len(events) == events_before + 1
    event = events[-1]
    assert event.action == "link.failed" and event.actor == who and event.actor_id == user.id
    assert event.details == {"reason": code}


@pytest.mark.parametrize("staff_id", ["1000000002", "1000000011", "1000000008", "1000000006"])
def test_refusals_do_not_leak_the_record(demo, client, staff_id):
    login(client, "newstaff")
    record = get_staff(staff_id)
    error = post_link(client, staff_id).get_json()["error"]
    text = str(error)
    for secret in (record.username, record.first_name + " " + record.last_name, record.last_name,
                   record.employee_number, record.email, record.lea.name, record.status):
        if secret:
            assert secret not in text, secret
    # a pending record that does not carry your username looks like any other mismatch
    assert error["code"] == "link_mismatch"


def test_refusal_messages_differ_per_code(demo, client):
    login(client, "newstaff")
    messages = {post_link(client, s).get_json()["error"]["message"]
                for s in ("123", "9999999999", "1000000002")}
    assert len(messages) == 3


def test_an_already_linked_staff_record_does_not_name_its_holder(demo, client):
    _other_user_holds_newstaffs_record()
    login(client, "newstaff")
    error = post_link(client, "1000000001").get_json()["error"]
    assert error["code"] == "staff_already_linked"
    assert "someone.else" not in str(error)


def test_the_body_must_carry_a_staff_id(demo, client):
    login(client, "newstaff")
    resp = client.post("/api/v1/me/link", json={})
    assert resp.status_code == 422
    assert "staff_id" in resp.get_json()["error"]["fields"]
    assert find_local_user("newstaff").active_link is None


def test_linking_needs_a_session_or_token(demo, client):
    resp = post_link(client, "1000000001")
    assert resp.status_code == 401
    assert not any(e.actor == "newstaff" for e in link_events())
    login(client, "newstaff")
    resp = client.post("/api/v1/me/link", json={"staff_id": "1000000001"}, csrf=False)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    assert find_local_user("newstaff").active_link is None


# --- the rate limit -------------------------------------------------------------------------

def test_failures_are_rate_limited_and_the_limit_resets_with_time(demo, client):
    start = pin_clock()
    assert demo.config["LINK_MAX_FAILURES_PER_HOUR"] == 5
    login(client, "newstaff")
    for minute in range(5):
        clock.set_now(start + dt.timedelta(minutes=minute))
        assert post_link(client, "9999999999").status_code == 404

    # the sixth attempt is refused even with the right staff ID
    clock.set_now(start + dt.timedelta(minutes=10))
    resp = post_link(client, "1000000001")
    assert resp.status_code == 429
    assert resp.get_json()["error"]["code"] == "rate_limited"
    assert find_local_user("newstaff").active_link is None
    assert link_events()[-1].details == {"reason": "rate_limited"}

    # another user is not limited by newstaff's failures
    other = demo.test_client()
    login(other, "teacher")
    assert post_link(other, "9999999999").get_json()["error"]["code"] == "already_linked"

    # an hour after those attempts the window is clear again (in a new session: the old
    # one has idled out)
    clock.set_now(start + dt.timedelta(minutes=10, hours=1, seconds=1))
    client = demo.test_client()
    login(client, "newstaff")
    resp = post_link(client, "1000000001")
    assert resp.status_code == 201, resp.get_json()
    assert find_local_user("newstaff").active_link is not None


def test_the_window_slides(demo, client):
    start = pin_clock()
    login(client, "newstaff")
    for minute in (0, 20, 40, 50, 55):
        clock.set_now(start + dt.timedelta(minutes=minute))
        assert post_link(client, "9999999999").status_code == 404
    clock.set_now(start + dt.timedelta(minutes=59))
    assert post_link(client, "9999999999").status_code == 429
    # at 0:61 the first failure has left the window; attempts the limit turned away do not
    # count, so there is room for exactly one more failure
    clock.set_now(start + dt.timedelta(minutes=61))
    assert post_link(client, "9999999999").status_code == 404
    assert post_link(client, "9999999999").status_code == 429
    # at 0:81 the failure at 0:20 has left too: the right staff ID links
    clock.set_now(start + dt.timedelta(minutes=81))
    assert post_link(client, "1000000001").status_code == 201
    reasons = [e.details["reason"] for e in link_events() if e.action == "link.failed"]
    assert reasons == ["unknown_staff_id"] * 5 + ["rate_limited", "unknown_staff_id", "rate_limited"]


def test_the_limit_comes_from_the_configuration(demo, client):
    demo.config["LINK_MAX_FAILURES_PER_HOUR"] = 2
    pin_clock()
    login(client, "newstaff")
    assert post_link(client, "123").status_code == 422
    assert post_link(client, "9999999999").status_code == 404
    assert post_link(client, "1000000001").status_code == 429


def test_successes_do_not_count_towards_the_limit(demo, client):
    pin_clock()
    login(client, "newstaff")
    for _ in range(4):
        post_link(client, "9999999999")
    assert post_link(client, "1000000001").status_code == 201
    # had the success counted, the next attempt would already be rate-limited; it is the
    # fifth failure instead, and the one after it is limited
    codes = [post_link(client, "1000000001").get_json()["error"]["code"] for _ in range(2)]
    assert codes == ["already_linked", "rate_limited"]


# --- the page -------------------------------------------------------------------------------

def submit(client, staff_id: str):
    return client.post("/account/link", data={"staff_id": staff_id, "csrf_token": client.csrf_token()})


def test_link_page_links_the_account(demo, client):
    login(client, "newstaff")
    page = client.get("/account/link")
    assert page.status_code == 200
    assert '<label class="form-label" for="staff_id">Staff ID</label>' in page.get_data(as_text=True)

    resp = submit(client, " 1000000001 ")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account")
    account = client.get("/account").get_data(as_text=True)
    assert "Your account is now linked to staff ID 1000000001." in account
    assert find_local_user("newstaff").active_link.staff_record.staff_id == "1000000001"
    assert link_events()[-1].action == "link.created"

    again = client.get("/account/link").get_data(as_text=True)
    assert "already linked to staff ID <strong>1000000001</strong>" in again
    assert 'aria-label="Link account"' not in again


@pytest.mark.parametrize("staff_id, status, code", [
    ("1000000002", 403, "link_mismatch"),
    ("9999999999", 404, "unknown_staff_id"),
    ("12", 422, "invalid_staff_id"),
])
def test_link_page_shows_the_refusal_and_keeps_the_event(demo, client, staff_id, status, code):
    from edlink.linking import REFUSALS as MESSAGES
    login(client, "newstaff")
    before = len(link_events())
    resp = submit(client, staff_id)
    assert resp.status_code == status
    page = resp.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert MESSAGES[code][1].replace("'", "&#39;") in page
    assert "Demo Teacher" not in page and ">teacher<" not in page
    events = link_events()
    assert len(events) == before + 1 and events[-1].details == {"reason": code}
    assert find_local_user("newstaff").active_link is None


@pytest.mark.parametrize("typed", ["1" * 30, ""])
def test_link_page_audits_what_the_form_finds_malformed_too(demo, client, typed):
    login(client, "newstaff")
    before = len(link_events())
    resp = submit(client, typed)
    assert resp.status_code == 422
    assert "A staff ID is 10 digits." in resp.get_data(as_text=True)
    events = link_events()
    assert len(events) == before + 1 and events[-1].details == {"reason": "invalid_staff_id"}


def test_link_page_rate_limit(demo, client):
    pin_clock()
    login(client, "newstaff")
    for _ in range(5):
        assert submit(client, "9999999999").status_code == 404
    resp = submit(client, "1000000001")
    assert resp.status_code == 429
    assert "Too many failed link attempts" in resp.get_data(as_text=True)
    assert find_local_user("newstaff").active_link is None


def test_link_page_needs_a_sign_in(demo, client):
    resp = client.get("/account/link")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_staff_record_page_shows_the_new_link(demo, client):
    login(client, "newstaff")
    assert post_link(client, "1000000001").status_code == 201
    dm = demo.test_client()
    login(dm, "datamanager")
    page = dm.get("/staff/1000000001").get_data(as_text=True)
    assert "newstaff since" in page


def test_one_active_link_per_record_is_enforced_by_the_database(demo):
    """Even a writer that skips the service cannot give one record two active links."""
    from sqlalchemy.exc import IntegrityError
    record = db.session.execute(db.select(StaffRecord).where(StaffRecord.staff_id == "1000000002")).scalar_one()
    intruder = new_user("intruder")
    db.session.add(Link(user_id=intruder.id, staff_record_id=record.id, created_at=clock.now()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
