"""The staff directory import: the service, POST /api/v1/staff/import, the page and the CLI.

A file is applied whole or not at all; the answer counts created / updated / unchanged rows and
names every rejected row's line and reason.
"""
from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from edlink import clock
from edlink.cli import main
from edlink.csvio import ImportRejected
from edlink.extensions import db
from edlink.models import Link, StaffChange, StaffRecord
from edlink.staff import STAFF_COLUMNS, Actor, get_staff, import_staff
from edlink.users import find_local_user
from tests.conftest import login

HEADER = ",".join(STAFF_COLUMNS) + "\n"


def pin_clock() -> dt.datetime:
    """Pin the clock a little ahead (the demo grants start at the real now)."""
    at = (clock.now() + dt.timedelta(minutes=5)).replace(microsecond=0)
    clock.set_now(at)
    return at

# A new person for 101, and the demo record 1000000008 (pending_hr at 101) unchanged.
NEW_101 = "1000000101,20000101,Ada,Newhire,ada@demo.example,101,101001;NP1011,Teacher,active,ada.newhire"
PENDING_AS_IS = ("1000000008,20000008,Demo,Pending Hire,1000000008@demo.example,101,101001,Teacher,"
                 "pending_hr,")
PENDING_ACTIVE = PENDING_AS_IS.replace("pending_hr", "active")
ON_LEAVE_AS_IS = ("1000000009,20000009,Demo,On Leave,1000000009@demo.example,101,101002,"
                  "Paraprofessional,leave,")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """The demo users' argon2 hashes dominate set-up time; these tests are not about them."""
    from argon2 import PasswordHasher
    monkeypatch.setattr("edlink.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def csv(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def system() -> Actor:
    return Actor("system:test", "cli")


def staff_ids() -> set[str]:
    return set(db.session.execute(db.select(StaffRecord.staff_id)).scalars())


def count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


def changes(staff_id: str) -> list[StaffChange]:
    return list(db.session.execute(
        db.select(StaffChange).join(StaffRecord, StaffChange.staff_record_id == StaffRecord.id)
        .where(StaffRecord.staff_id == staff_id).order_by(StaffChange.id)).scalars())


def post_csv(client, text: str):
    return client.post("/api/v1/staff/import", data=text.encode(), content_type="text/csv")


# --- the service ----------------------------------------------------------------------------

def test_counts_created_updated_unchanged(demo):
    result = import_staff(csv(NEW_101, PENDING_ACTIVE, ON_LEAVE_AS_IS), system())
    db.session.commit()
    assert result.created == ["1000000101"]
    assert result.updated == ["1000000008"]
    assert result.unchanged == ["1000000009"]
    assert result.summary() == {"created": 1, "updated": 1, "unchanged": 1}

    ada = get_staff("1000000101")
    assert (ada.first_name, ada.last_name, ada.lea.code, ada.status) == ("Ada", "Newhire", "101", "active")
    assert [s.code for s in ada.sites] == ["101001", "NP1011"]
    assert ada.username == "ada.newhire"
    assert get_staff("1000000008").status == "active"

    again = import_staff(csv(NEW_101, PENDING_ACTIVE), system())
    assert again.summary() == {"created": 0, "updated": 0, "unchanged": 2}


def test_the_demo_file_reimports_unchanged(demo):
    from edlink.demo import STAFF, staff_csv
    result = import_staff(staff_csv(), system())
    assert result.summary() == {"created": 0, "updated": 0, "unchanged": len(STAFF)}


def test_history_records_what_who_and_when(demo):
    at = pin_clock()
    dm = find_local_user("datamanager")
    actor = Actor(dm, "import", _manages(dm))
    import_staff(csv(PENDING_ACTIVE.replace("Pending Hire", "Hired")), actor)
    db.session.commit()

    rows = [(c.field, c.old_value, c.new_value) for c in changes("1000000008") if c.changed_at == at]
    assert sorted(rows) == [("last_name", "Pending Hire", "Hired"), ("status", "pending_hr", "active")]
    for change in changes("1000000008"):
        if change.changed_at == at:
            assert change.changed_by.username == "datamanager"
            assert change.source == "import"
            assert change.batch
    [status_event] = [e for e in events("staff.status_changed") if e.target_id == "1000000008"]
    assert status_event.actor == "datamanager"
    assert status_event.org_code == "101"
    assert status_event.details == {"from": "pending_hr", "to": "active", "source": "import"}
    assert status_event.occurred_at == at
    imported = events("staff.imported")[-1]
    assert imported.details["updated"] == ["1000000008"] and imported.actor == "datamanager"


def test_a_new_record_has_its_first_values_in_history(demo):
    import_staff(csv(NEW_101), system())
    fields = {c.field: (c.old_value, c.new_value) for c in changes("1000000101")}
    assert fields["status"] == (None, "active")
    assert fields["username"] == (None, "ada.newhire")
    assert fields["site_codes"] == (None, "101001;NP1011")
    assert events("staff.status_changed") == []  # a new record's status is not a change


def _manages(user):
    from edlink import authz
    return authz.orgs_with("edlink.staff.manage", user)


BAD = [
    ("123456789,20000201,Bad,Id,,101,,Teacher,active,",
     "malformed staff ID: it must be 10 digits"),
    ("12345678901,20000201,Bad,Id,,101,,Teacher,active,", "malformed staff ID: it must be 10 digits"),
    ("10000002A1,20000201,Bad,Id,,101,,Teacher,active,", "malformed staff ID: it must be 10 digits"),
    ("1000000201,2000020,Bad,Emp,,101,,Teacher,active,", "malformed employee number: it must be 8 digits"),
    ("1000000201,2000020X,Bad,Emp,,101,,Teacher,active,", "malformed employee number: it must be 8 digits"),
    ("1000000201,20000201,Bad,Lea,,999,,Teacher,active,", "unknown LEA '999'"),
    ("1000000201,20000201,Bad,Lea,,101001,,Teacher,active,", "unknown LEA '101001'"),
    ("1000000201,20000201,Bad,Site,,101,101001;999999,Teacher,active,", "unknown site '999999'"),
    ("1000000201,20000201,Bad,Site,,101,101,Teacher,active,", "unknown site '101'"),
    ("1000000201,20000201,Bad,Site,,101,102001,Teacher,active,", "site 102001 is not in 101"),
    ("1000000201,20000201,Bad,Status,,101,,Teacher,retired,", "unknown status 'retired'"),
    ("1000000201,20000201,Bad,Status,,101,,Teacher,,", "unknown status ''"),
    ("1000000101,20000201,Dup,Id,,101,,Teacher,active,", "duplicate staff ID in the file (also on line 2)"),
    ("1000000201,20000101,Dup,Emp,,101,,Teacher,active,",
     "duplicate employee number in the file (also on line 2)"),
    ("1000000201,20000201,Dup,User,,101,,Teacher,active,ADA.NewHire",
     "duplicate username in the file (also on line 2)"),
    ("1000000201,20000201,Taken,User,,101,,Teacher,active,Teacher",
     "username already on another person's record"),
    ("1000000201,20000001,Taken,Emp,,101,,Teacher,active,",
     "employee number already on another person's record"),
    ("1000000201,20000201,,Nameless,,101,,Teacher,active,", "first_name and last_name are required"),
    ("1000000201,20000201,Bad,Mail,not-an-address,101,,Teacher,active,", "malformed e-mail address"),
    ("1000000201,20000201,Bad,User,,101,,Teacher,active,two words", "no spaces"),
    ("1000000201,20000201,Too,Many,,101,,Teacher,active,,extra", "11 values for 10 columns"),
]


def _assert_nothing_changed(before_ids, before_changes, before_events, pending_status="pending_hr"):
    db.session.expire_all()
    assert staff_ids() == before_ids
    assert count(StaffChange) == before_changes
    assert count(AuditEvent) == before_events
    assert get_staff("1000000008").status == pending_status


@pytest.mark.parametrize("bad_row, reason", BAD, ids=[b[1] for b in BAD])
def test_one_bad_row_changes_nothing_and_is_named(demo, bad_row, reason):
    before = (staff_ids(), count(StaffChange), count(AuditEvent))
    with pytest.raises(ImportRejected) as info:
        import_staff(csv(NEW_101, PENDING_ACTIVE, bad_row), system())
    db.session.rollback()

    [row] = info.value.errors
    assert row.line == 4
    assert reason in row.reason
    assert row.key == bad_row.split(",")[0]
    assert info.value.code == "import_rejected"
    _assert_nothing_changed(*before)


def test_every_bad_row_is_named_with_all_its_reasons(demo):
    with pytest.raises(ImportRejected) as info:
        import_staff(csv("123,456,A,B,,999,,Teacher,gone,",
                         NEW_101,
                         "1000000202,20000202,C,D,,101,,Teacher,active,teacher"), system())
    db.session.rollback()
    first, second = info.value.errors
    assert first.line == 2
    for reason in ("10 digits", "8 digits", "unknown LEA '999'", "unknown status 'gone'"):
        assert reason in first.reason
    assert (second.line, second.key) == (4, "1000000202")
    assert "1000000101" not in staff_ids()


def test_a_username_may_move_between_records_in_one_file(demo):
    """Usernames and employee numbers handed over inside one file are not 'taken'."""
    teacher = get_staff("1000000002")
    newstaff = get_staff("1000000001")
    rows = []
    for record, other in ((newstaff, teacher), (teacher, newstaff)):
        rows.append(",".join([record.staff_id, other.employee_number, record.first_name,
                              record.last_name, record.email, record.lea.code, record.site_codes,
                              record.staff_type, record.status, other.username]))
    result = import_staff(csv(*rows), system())
    db.session.commit()
    assert sorted(result.updated) == ["1000000001", "1000000002"]
    assert get_staff("1000000001").username == "teacher"
    assert get_staff("1000000001").employee_number == "20000002"
    assert get_staff("1000000002").username == "newstaff"
    history = {(c.field, c.old_value, c.new_value) for c in changes("1000000001")}
    assert ("employee_number", "20000001", "20000002") in history
    assert ("username", "newstaff", "teacher") in history


def test_changing_the_username_of_a_linked_record_ends_the_link(demo):
    teacher = find_local_user("teacher")
    assert teacher.active_link is not None
    row = "1000000002,20000002,Demo,Teacher,teacher@demo.example,101,101002,Teacher,active,teacher2"
    import_staff(csv(row), system())
    db.session.commit()
    assert teacher.active_link is None
    [removed] = events("link.removed")
    assert removed.details["staff_id"] == "1000000002"
    assert removed.details["user"] == "teacher"


def test_a_status_change_keeps_the_link_and_is_audited(demo):
    row = "1000000002,20000002,Demo,Teacher,teacher@demo.example,101,101002,Teacher,leave,teacher"
    import_staff(csv(row), system())
    [event] = events("staff.status_changed")
    assert event.details["from"] == "active" and event.details["to"] == "leave"
    assert event.target_type == "staff_record" and event.target_id == "1000000002"


def test_a_bad_header_is_refused(demo):
    from edlink.errors import DomainError
    with pytest.raises(DomainError) as info:
        import_staff("staff_id,first_name\n1000000001,X\n", system())
    assert info.value.code == "bad_header"
    assert "employee_number" in info.value.message


# --- the API --------------------------------------------------------------------------------

def test_api_import_as_data_manager(demo, client):
    login(client, "datamanager")
    resp = post_csv(client, csv(NEW_101, PENDING_ACTIVE))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 0)
    assert body["created_keys"] == ["1000000101"] and body["updated_keys"] == ["1000000008"]
    assert body["rejected"] == []
    # committed by the request
    assert get_staff("1000000101").username == "ada.newhire"
    history = [c for c in changes("1000000008") if c.field == "status"]
    assert history[-1].changed_by.username == "datamanager" and history[-1].source == "api"

    again = post_csv(client, csv(NEW_101, PENDING_ACTIVE)).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_api_import_accepts_a_multipart_file(demo, client):
    import io
    login(client, "datamanager")
    resp = client.post("/api/v1/staff/import",
                       data={"file": (io.BytesIO(csv(NEW_101).encode()), "staff.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["created_keys"] == ["1000000101"]


@pytest.mark.parametrize("bad_row, reason", [b for b in BAD if "11 values" not in b[1]][::3])
def test_api_rejects_the_whole_file_naming_the_row(demo, client, bad_row, reason):
    login(client, "datamanager")
    before = (staff_ids(), count(StaffChange), count(AuditEvent))
    resp = post_csv(client, csv(NEW_101, PENDING_ACTIVE, bad_row))
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "import_rejected"
    assert "line 4" in error["message"]
    [row] = error["fields"]["rows"]
    assert row["line"] == 4 and row["key"] == bad_row.split(",")[0]
    assert reason in row["reason"]
    _assert_nothing_changed(*before)


def test_a_data_manager_of_101_cannot_import_rows_for_102(demo, client):
    login(client, "datamanager")
    before = (staff_ids(), count(StaffChange), count(AuditEvent))
    resp = post_csv(client, csv(NEW_101, "1000000301,20000301,Harbor,Hire,,102,102001,Teacher,active,"))
    assert resp.status_code == 422
    [row] = resp.get_json()["error"]["fields"]["rows"]
    assert row["line"] == 3 and "you do not manage the staff of 102" in row["reason"]
    # nor state staff
    resp = post_csv(client, csv("1000000302,20000302,State,Hire,,DS,,State Staff,active,"))
    assert "you do not manage the staff of DS" in resp.get_json()["error"]["fields"]["rows"][0]["reason"]
    _assert_nothing_changed(*before)


def test_a_data_manager_cannot_take_over_another_systems_record(demo, client):
    """Re-filing 102's record under 101 would let 101 set its username: refused."""
    login(client, "datamanager")
    before = (staff_ids(), count(StaffChange), count(AuditEvent))
    resp = post_csv(client, csv(
        "1000000011,20000011,Demo,Harbor Teacher,,101,101001,Teacher,active,hijacked"))
    assert resp.status_code == 422
    [row] = resp.get_json()["error"]["fields"]["rows"]
    assert row["key"] == "1000000011" and "do not manage" in row["reason"]
    _assert_nothing_changed(*before)
    record = get_staff("1000000011")
    assert record.lea.code == "102" and record.username is None


def test_the_state_administrator_imports_for_any_system(demo, client):
    login(client, "stateadmin")
    resp = post_csv(client, csv("1000000301,20000301,Harbor,Hire,,102,102001,Teacher,active,",
                                "1000000302,20000302,State,Hire,,DS,101001;102001,State Staff,active,"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["created"] == 2


@pytest.mark.parametrize("username, status", [("teacher", 403), ("coordinator", 403), ("auditor", 403)])
def test_only_staff_managers_may_import(demo, client, username, status):
    login(client, username)
    resp = post_csv(client, csv(NEW_101))
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert "1000000101" not in staff_ids()


def test_api_import_needs_a_body_and_a_session(demo, client):
    assert post_csv(client, csv(NEW_101)).status_code == 401
    login(client, "datamanager")
    resp = client.post("/api/v1/staff/import", data=b"", content_type="text/csv")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_file"
    resp = post_csv(client, "staff_id,name\n1,2\n")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "bad_header"
    resp = client.post("/api/v1/staff/import", data=b"\xff\xfe\x00bad", content_type="text/csv")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "bad_file"


def test_api_import_needs_the_csrf_header_on_a_session(demo, client):
    login(client, "datamanager")
    resp = client.post("/api/v1/staff/import", data=csv(NEW_101).encode(),
                       content_type="text/csv", csrf=False)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "csrf_failed"
    assert "1000000101" not in staff_ids()


def test_api_staff_record_shows_history(demo, client):
    at = pin_clock()
    login(client, "datamanager")
    post_csv(client, csv(PENDING_ACTIVE))
    body = client.get("/api/v1/staff/1000000008").get_json()
    assert body["status"] == "active"
    assert body["history"][0] == {"field": "status", "from": "pending_hr", "to": "active",
                                  "at": at.isoformat(), "by": "datamanager", "source": "api"}


# --- the page -------------------------------------------------------------------------------

def _upload(client, text: str):
    import io
    return client.post("/staff/import", data={"file": (io.BytesIO(text.encode()), "staff.csv"),
                                              "csrf_token": client.csrf_token()},
                       content_type="multipart/form-data")


def test_import_page_shows_the_result(demo, client):
    login(client, "datamanager")
    assert client.get("/staff/import").status_code == 200
    resp = _upload(client, csv(NEW_101, PENDING_ACTIVE))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "1 created, 1 updated, 0 unchanged" in page
    assert "/staff/1000000101" in page
    assert get_staff("1000000101").status == "active"
    [change] = [c for c in changes("1000000008") if c.field == "status"][-1:]
    assert change.source == "import"


def test_import_page_lists_rejected_rows(demo, client):
    login(client, "datamanager")
    resp = _upload(client, csv(NEW_101, "1000000201,20000201,Bad,Status,,101,,Teacher,retired,"))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Nothing was changed" in page
    assert "<td>3</td><td>1000000201</td>" in page
    assert "unknown status &#39;retired&#39;" in page
    assert "1000000101" not in staff_ids()


def test_import_page_is_for_staff_managers(demo, client):
    login(client, "teacher")
    assert client.get("/staff/import").status_code == 403


# --- the command line -----------------------------------------------------------------------

def test_cli_import(demo, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(csv(NEW_101, PENDING_ACTIVE))
    result = demo.test_cli_runner().invoke(main, args=["staff", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "created 1, updated 1, unchanged 0, rejected 0"
    db.session.expire_all()
    assert get_staff("1000000101").status == "active"
    change = [c for c in changes("1000000008") if c.field == "status"][-1]
    assert (change.old_value, change.new_value) == ("pending_hr", "active")
    assert change.source == "cli" and change.changed_by is None


def test_cli_refuses_a_bad_file_with_a_reason_and_the_rows(demo, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(csv(NEW_101, "123,20000201,Bad,Id,,101,,Teacher,active,",
                       "1000000202,20000202,Bad,Status,,101,,Teacher,retired,"))
    before = (staff_ids(), count(StaffChange), count(AuditEvent))
    result = demo.test_cli_runner().invoke(main, args=["staff", "import", str(bad)])
    assert result.exit_code != 0
    lines = result.stderr.rstrip().splitlines()
    assert lines[0] == "  line 3: 123: malformed staff ID: it must be 10 digits"
    assert lines[1] == "  line 4: 1000000202: unknown status 'retired' (one of: active, pending_hr, leave, terminated)"
    assert lines[-1].startswith("Error: The staff file was not imported: 2 row(s) rejected (line 3, 4).")
    assert lines[-1].endswith("[import_rejected]")
    assert len(lines) == 3
    _assert_nothing_changed(*before)


def test_cli_refuses_a_missing_file(demo, tmp_path):
    result = demo.test_cli_runner().invoke(main, args=["staff", "import", str(tmp_path / "none.csv")])
    assert result.exit_code != 0
    assert result.stderr.strip().startswith("Error: cannot read")
    assert len(result.stderr.strip().splitlines()) == 1


def test_links_survive_an_unchanged_reimport(demo):
    from edlink.demo import staff_csv
    links = count(Link)
    import_staff(staff_csv(), system())
    db.session.commit()
    assert events("link.removed") == []
    assert count(Link) == links
    assert find_local_user("teacher").active_link is not None
