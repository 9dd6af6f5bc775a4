"""Carrying legacy TAS grants over: ``edlink tas import FILE.csv [--dry-run]`` and its service.

The file (a TAS "User Report by Application") is applied whole or not at all; every row is
reported as imported, skipped (and why) or rejected (and why). The demo state provides the
people: teacher (staff ID 1000000002, Pinecrest Parish 101, site 101002), coordinator
(1000000003), supervisor (1000000004), datamanager (1000000005) at 101; stateadmin (1000000006)
and auditor (1000000007) at the state DS; newstaff (1000000001) has not linked yet.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from edlink import clock
from edlink.cli import main
from edlink.csvio import ImportRejected
from edlink.errors import DomainError
from edlink.extensions import db
from edlink.models import StaffRecord
from edlink.orgs import get_org
from edlink.users import get_user
from roles import gate
from roles.catalog import load
from roles.grants import create_grant
from roles.models import Grant
from roles.tas import TAS_COLUMNS, TasRejected, import_tas

HEADER = ",".join(TAS_COLUMNS) + "\n"
FUTURE = "2099-06-30"

READER_SITE = f"teacher,1000000002,101002,eser,SER-READ,2022-08-08,{FUTURE}"
WRITER_LEA = "teacher,1000000002,101,eser,SER-WRITE,08/08/2022,"  # the way TAS prints dates
FORMS_LEA = f"supervisor,1000000004,101,eSER,ser-iepforms,2023-01-15,{FUTURE}"  # case does not matter
AUDITOR_101 = f"coordinator,1000000003,101,edlink,TAS-AUDIT,2021-09-01,{FUTURE}"
EXPIRED = "teacher,1000000002,101001,eser,SER-WRITE,2019-08-01,2020-06-30"
HELD_AT_STATE = "auditor,1000000007,DS,edlink,TAS-AUDIT,2020-01-02,"  # the demo grants it already
UNKNOWN_CODE = "teacher,1000000002,101,eser,SER-TYPO,2022-08-08,"


def csv(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


def tas_grants() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    grants = db.session.execute(db.select(Grant).where(Grant.source == "tas_import")).scalars()
    return sorted((g.user.username, g.role_code, g.org.code) for g in grants)


def snapshot() -> tuple[int, int]:
    return count(Grant), count(AuditEvent)


def cli(app, *args):
    return app.test_cli_runner().invoke(main, ["tas", "import", *args])


def write(tmp_path, text: str, name: str = "tas.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def local_midnight(day: str, app) -> dt.datetime:
    zone = ZoneInfo(app.config["TIMEZONE"])
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=zone).astimezone(dt.UTC)


def rejected(text: str) -> list[tuple[int, str]]:
    with pytest.raises(TasRejected) as info:
        import_tas(text)
    db.session.rollback()
    return [(e.line, e.reason) for e in info.value.errors]


# --- the service: what is imported ------------------------------------------------------------

def test_imports_grants_with_their_tas_dates_and_events(demo):
    before = len(events("grant.created"))
    result = import_tas(csv(READER_SITE, WRITER_LEA, FORMS_LEA, AUDITOR_101))
    db.session.commit()

    assert result.summary() == {"imported": 4, "skipped": 0, "rejected": 0}
    assert result.applied and not result.dry_run
    assert [r.outcome for r in result.rows] == ["imported"] * 4
    assert tas_grants() == [("coordinator", "edlink.auditor", "101"), ("supervisor", "eser.iep_forms", "101"),
                            ("teacher", "eser.reader", "101002"), ("teacher", "eser.writer", "101")]
    reader = db.session.execute(db.select(Grant).where(Grant.role_code == "eser.reader")).scalar_one()
    assert reader.status == "active" and reader.granted_by_id is None
    # the day TAS granted it, from local midnight; in force through the whole expiry day
    assert reader.starts_at == local_midnight("2022-08-08", demo)
    assert reader.ends_at == local_midnight("2099-07-01", demo)
    writer = db.session.execute(db.select(Grant).where(Grant.role_code == "eser.writer")).scalar_one()
    assert writer.starts_at == local_midnight("2022-08-08", demo) and writer.ends_at is None

    created = events("grant.created")[before:]
    assert len(created) == 4
    assert {e.actor for e in created} == {"system:cli"}
    assert {e.details["source"] for e in created} == {"tas_import"}
    assert {(e.details["user"], e.details["role"], e.org_code) for e in created} == {
        ("teacher", "eser.reader", "101002"), ("teacher", "eser.writer", "101"),
        ("supervisor", "eser.iep_forms", "101"), ("coordinator", "edlink.auditor", "101")}
    [summary] = events("tas.imported")
    assert summary.actor == "system:cli" and summary.org_code == "DS"
    assert summary.target_type == "tas_import" and summary.target_id == result.batch
    assert summary.details["imported"] == 4 and summary.details["skipped"] == 0
    assert summary.details["rejected"] == 0 and summary.details["rows"] == 4
    assert len(summary.details["file_sha256"]) == 64
    assert summary.seq > created[-1].seq

    teacher = get_user("teacher")
    assert gate.can("eser.student.read", get_org("101002"), teacher)
    assert gate.can("eser.student.write", get_org("101001"), teacher)  # the writer grant at 101


def test_each_row_says_what_it_granted(demo):
    result = import_tas(csv(READER_SITE))
    [row] = result.rows
    assert (row.line, row.outcome, row.username, row.role, row.org) == (2, "imported", "teacher",
                                                                        "eser.reader", "101002")
    assert result.lines() == [
        "line 2: imported — teacher (staff ID 1000000002): SER Data Reader (eser.reader) at 101002, "
        f"from 2022-08-08 until {FUTURE} (TAS SER-READ)"]
    assert result.summary_line() == "imported 1, skipped 0, rejected 0"


def test_the_application_may_be_given_by_its_name(demo):
    row = "teacher,1000000002,101002,eSER (Special Education Reporting),SER-READ,2022-08-08,"
    assert import_tas(csv(row)).summary()["imported"] == 1


def test_the_username_matches_whatever_its_case(demo):
    result = import_tas(csv(READER_SITE.replace("teacher", "Teacher")))
    assert result.summary()["imported"] == 1
    assert tas_grants() == [("teacher", "eser.reader", "101002")]


# --- skipped rows -------------------------------------------------------------------------------

def test_skips_expired_held_and_duplicate_rows(demo):
    result = import_tas(csv(READER_SITE, EXPIRED, HELD_AT_STATE, READER_SITE.replace(FUTURE, "2098-01-01")))
    db.session.commit()
    assert result.summary() == {"imported": 1, "skipped": 3, "rejected": 0}
    assert [(r.line, r.outcome, r.kind) for r in result.rows] == [
        (2, "imported", ""), (3, "skipped", "expired"), (4, "skipped", "already_granted"),
        (5, "skipped", "duplicate")]
    lines = result.lines()
    assert lines[1] == "line 3: skipped — expired in TAS on 2020-06-30"
    assert lines[2].startswith("line 4: skipped — already granted: auditor holds edlink.auditor at DS")
    assert lines[3] == "line 5: skipped — duplicate of line 2 (same person, role and place)"
    assert tas_grants() == [("teacher", "eser.reader", "101002")]
    [summary] = events("tas.imported")
    assert summary.details["skipped_by_reason"] == {"expired": 1, "already_granted": 1, "duplicate": 1}


def test_importing_the_same_file_again_skips_everything(demo):
    text = csv(READER_SITE, WRITER_LEA)
    import_tas(text)
    db.session.commit()
    grants = count(Grant)
    again = import_tas(text)
    db.session.commit()
    assert again.summary() == {"imported": 0, "skipped": 2, "rejected": 0}
    assert all("already granted" in r.reason for r in again.rows)
    assert count(Grant) == grants


def test_an_expired_row_is_skipped_even_when_the_person_is_gone(demo):
    """Old TAS rows of people who never got an account are not carried over, so they pass."""
    result = import_tas(csv("someone.gone,1999999999,999,eser,SER-READ,2015-01-05,2016-06-30"))
    assert result.summary() == {"imported": 0, "skipped": 1, "rejected": 0}


def test_expiring_today_is_still_imported(demo):
    today = clock.now().astimezone(ZoneInfo(demo.config["TIMEZONE"])).date().isoformat()
    result = import_tas(csv(READER_SITE.replace(FUTURE, today)))
    assert result.summary()["imported"] == 1


def test_access_revoked_or_suspended_here_is_not_carried_over_again(demo):
    teacher = get_user("teacher")
    revoked = create_grant(teacher, "eser.reader", get_org("101002"), source="request", granted_by=None,
                           actor="system:test")
    revoked.status, revoked.revoked_at = "revoked", clock.now()
    suspended = create_grant(teacher, "eser.writer", get_org("101"), source="request", granted_by=None,
                             actor="system:test")
    suspended.status = "suspended"
    db.session.commit()
    result = import_tas(csv(READER_SITE, WRITER_LEA))
    assert result.summary() == {"imported": 0, "skipped": 2, "rejected": 0}
    assert [r.kind for r in result.rows] == ["revoked", "suspended"]
    assert "revoked in EdLink on" in result.rows[0].reason
    assert "suspended in EdLink" in result.rows[1].reason


# --- rejected rows: nothing changes -------------------------------------------------------------

def test_one_unknown_tas_code_changes_nothing_and_names_the_row(demo):
    before = snapshot()
    with pytest.raises(TasRejected) as info:
        import_tas(csv(READER_SITE, UNKNOWN_CODE, WRITER_LEA))
    db.session.rollback()
    exc = info.value
    assert isinstance(exc, ImportRejected) and exc.code == "import_rejected"
    [error] = exc.errors
    assert (error.line, error.key) == (3, "teacher")
    assert "unknown TAS role code 'SER-TYPO'" in error.reason
    assert "line 3" in exc.message and "Nothing was changed" in exc.message
    assert [r.outcome for r in exc.result.rows] == ["held", "rejected", "held"]
    assert exc.result.summary() == {"imported": 0, "skipped": 0, "rejected": 1}
    assert snapshot() == before
    assert tas_grants() == [] and events("tas.imported") == []


PERSON = [
    ("nobody,1000000002,101002,eser,SER-READ,2022-08-08,", ["unknown username 'nobody'"]),
    ("teacher,1000000099,101002,eser,SER-READ,2022-08-08,", ["unknown staff ID '1000000099'"]),
    ("teacher,12345,101002,eser,SER-READ,2022-08-08,", ["malformed staff ID '12345': it must be 10 digits"]),
    ("teacher,,101002,eser,SER-READ,2022-08-08,", ["staff_id is empty"]),
    ("teacher,1000000003,101002,eser,SER-READ,2022-08-08,",
     ["teacher is linked to staff ID 1000000002, not 1000000003",
      "staff ID 1000000003 is linked to another account (coordinator)"]),
    ("newstaff,1000000001,101001,eser,SER-READ,2022-08-08,",
     ["newstaff is not linked to staff ID 1000000001 (not linked to any staff record yet)"]),
    ("newstaff,1000000002,101002,eser,SER-READ,2022-08-08,",
     ["staff ID 1000000002 is linked to another account (teacher)"]),
]

PLACE = [
    ("stateadmin,1000000006,101,edlink,TAS-SYSADMIN,2020-01-02,",
     ["State Administrator (edlink.state_admin) is granted at state level, not at 101 (a lea)"]),
    ("teacher,1000000002,101002,eser,SER-IEPSUBMIT,2022-08-08,",
     ["Submit IEP to SER (eser.iep_submit) is granted at lea level, not at 101002 (a school)"]),
    ("auditor,1000000007,DS,eser,SER-READ,2022-08-08,",
     ["SER Data Reader (eser.reader) is granted at lea or site level, not at DS (a state)"]),
    ("teacher,1000000002,999,eser,SER-READ,2022-08-08,", ["unknown sponsor_code '999'"]),
    ("teacher,1000000002,NP1011,eser,SER-READ,2022-08-08,",
     ["sponsor_code NP1011 is a nonpublic school: access there comes with the school system that "
      "serves it (101)"]),
    ("teacher,1000000002,102001,eser,SER-READ,2022-08-08,",
     ["102001 is outside the school system of staff ID 1000000002 (101)"]),
    ("teacher,1000000002,101002,edlink,SER-READ,2022-08-08,",
     ["application 'edlink' does not match TAS role SER-READ, which is SER Data Reader (eser.reader) "
      "of application eser"]),
]

DATES = [
    ("teacher,1000000002,101002,eser,SER-READ,2022-13-01,", ["granted_on '2022-13-01' is not a date"]),
    ("teacher,1000000002,101002,eser,SER-READ,,", ["granted_on is empty"]),
    ("teacher,1000000002,101002,eser,SER-READ,2022-08-08,soon", ["expires_on 'soon' is not a date"]),
    ("teacher,1000000002,101002,eser,SER-READ,31/12/2022,", ["granted_on '31/12/2022' is not a date"]),
    ("teacher,1000000002,101002,eser,SER-READ,2099-01-01,", ["granted_on 2099-01-01 is in the future"]),
    ("teacher,1000000002,101002,eser,SER-READ,2022-08-08,2022-08-01",
     ["expires_on 2022-08-01 is before granted_on 2022-08-08"]),
]


@pytest.mark.parametrize("row, reasons", PERSON + PLACE + DATES, ids=[r[1][0][:50] for r in PERSON + PLACE + DATES])
def test_a_bad_row_is_rejected_with_its_reason_and_nothing_changes(demo, row, reasons):
    before = snapshot()
    [(line, reason)] = rejected(csv(READER_SITE, row))
    assert line == 3
    for expected in reasons:
        assert expected in reason
    assert snapshot() == before


def test_a_staff_record_not_active_in_hr_is_rejected(demo):
    db.session.execute(db.update(StaffRecord).where(StaffRecord.staff_id == "1000000002").values(status="leave"))
    db.session.commit()
    [(line, reason)] = rejected(csv(READER_SITE))
    assert (line, reason) == (2, "staff record 1000000002 is leave in HR, not active")


def test_a_disabled_account_is_rejected(demo):
    get_user("teacher").disabled = True
    db.session.commit()
    [(_, reason)] = rejected(csv(READER_SITE))
    assert reason == "the account teacher is disabled"


def test_every_rejected_row_is_named_with_all_its_reasons(demo):
    errors = rejected(csv("nobody,1000000099,999,eser,SER-TYPO,someday,", READER_SITE,
                          "teacher,1000000002,101002,edlink,SER-READ,2022-08-08,"))
    assert [line for line, _ in errors] == [2, 4]
    for fragment in ("unknown TAS role code 'SER-TYPO'", "granted_on 'someday' is not a date"):
        assert fragment in errors[0][1]
    assert "application 'edlink'" in errors[1][1]


def test_a_row_with_too_many_values_is_rejected(demo):
    [(line, reason)] = rejected(csv(READER_SITE + ",extra"))
    assert (line, reason) == (2, "8 values for 7 columns")


def test_the_holder_limit_counts_existing_holders_and_the_file(demo):
    row = "{u},{sid},101,eser,SER-SECUREID,2022-08-08,"
    create_grant(get_user("datamanager"), "eser.secure_id", get_org("101"), source="demo", granted_by=None,
                 actor="system:test")
    db.session.commit()
    errors = rejected(csv(row.format(u="teacher", sid="1000000002"), row.format(u="supervisor", sid="1000000004")))
    assert errors == [(3, "101 may have at most 2 Secure ID Manager holders, and 2 already hold it or come "
                          "earlier in the file")]
    assert import_tas(csv(row.format(u="teacher", sid="1000000002"))).summary()["imported"] == 1


def test_a_role_with_a_longest_term_is_cut_to_it(demo, monkeypatch):
    catalog = load()
    monkeypatch.setitem(catalog.roles, "eser.reader", replace(catalog.roles["eser.reader"], max_days=30))
    result = import_tas(csv(READER_SITE))
    grant = db.session.execute(db.select(Grant).where(Grant.role_code == "eser.reader")).scalar_one()
    assert grant.ends_at <= clock.now() + dt.timedelta(days=30)
    assert "longest term, 30 days" in result.rows[0].reason


@pytest.mark.parametrize("text, code", [
    ("username,staff_id\nteacher,1000000002\n", "bad_header"),
    ("", "bad_file"),
])
def test_a_bad_file_is_refused(demo, text, code):
    with pytest.raises(DomainError) as info:
        import_tas(text)
    assert info.value.code == code


def test_the_expires_on_column_may_be_left_out(demo):
    text = "username,staff_id,sponsor_code,application,tas_role,granted_on\n" \
           "teacher,1000000002,101002,eser,SER-READ,2022-08-08\n"
    assert import_tas(text).summary()["imported"] == 1


# --- dry run ------------------------------------------------------------------------------------

def test_a_dry_run_reports_and_changes_nothing(demo):
    before = snapshot()
    result = import_tas(csv(READER_SITE, EXPIRED), dry_run=True)
    db.session.rollback()
    assert result.dry_run and not result.applied
    assert result.summary() == {"imported": 1, "skipped": 1, "rejected": 0}
    assert result.summary_line() == "imported 1, skipped 1, rejected 0 — dry run: nothing was changed"
    assert snapshot() == before
    real = import_tas(csv(READER_SITE, EXPIRED))
    assert real.lines() == result.lines()


# --- the command line ---------------------------------------------------------------------------

def test_cli_imports_and_reports_per_row(demo, tmp_path):
    path = write(tmp_path, csv(READER_SITE, EXPIRED, HELD_AT_STATE))
    result = cli(demo, path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("line 2: imported — teacher (staff ID 1000000002): SER Data Reader")
    assert lines[1] == "line 3: skipped — expired in TAS on 2020-06-30"
    assert lines[2].startswith("line 4: skipped — already granted")
    assert lines[3] == "imported 1, skipped 2, rejected 0"
    assert tas_grants() == [("teacher", "eser.reader", "101002")]  # committed
    assert [e.details["imported"] for e in events("tas.imported")] == [1]


def test_cli_unknown_tas_code_changes_nothing_names_the_row_and_fails(demo, tmp_path):
    before = snapshot()
    result = cli(demo, write(tmp_path, csv(READER_SITE, UNKNOWN_CODE)))
    assert result.exit_code == 1
    out = result.stdout.strip().splitlines()
    assert out[0].startswith("line 2: not imported — the file has rejected rows; this one would import teacher")
    assert out[1] == ("line 3: rejected — unknown TAS role code 'SER-TYPO': the catalog maps no role to it")
    assert out[2] == "imported 0, skipped 0, rejected 1 (1 good row(s) not imported: the file has rejected rows)"
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in result.stderr
    assert err[0].startswith("Error: The TAS file was not imported: 1 row(s) rejected (line 3).")
    assert err[0].endswith("[import_rejected]")
    assert snapshot() == before


def test_cli_dry_run_prints_the_report_and_changes_nothing(demo, tmp_path):
    path = write(tmp_path, csv(READER_SITE, WRITER_LEA, EXPIRED))
    before = snapshot()
    dry = cli(demo, path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.strip().splitlines()[-1] == "imported 2, skipped 1, rejected 0 — dry run: nothing was changed"
    assert snapshot() == before
    assert tas_grants() == []

    real = cli(demo, path)
    assert real.exit_code == 0, real.output
    assert real.stdout.splitlines()[:-1] == dry.stdout.splitlines()[:-1]  # the same per-row report
    assert real.stdout.strip().splitlines()[-1] == "imported 2, skipped 1, rejected 0"
    assert len(tas_grants()) == 2


def test_cli_dry_run_of_a_bad_file_fails_and_changes_nothing(demo, tmp_path):
    before = snapshot()
    result = cli(demo, write(tmp_path, csv(UNKNOWN_CODE)), "--dry-run")
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[0].startswith("line 2: rejected — unknown TAS role code")
    assert result.stderr.strip().startswith("Error: Dry run: The TAS file would be refused: 1 row(s) rejected")
    assert snapshot() == before


@pytest.mark.parametrize("content, reason", [
    (None, "cannot read"),
    ("username,staff_id\nteacher,1000000002\n", "bad_header"),
])
def test_cli_bad_file_fails_with_one_line(demo, tmp_path, content, reason):
    path = tmp_path / "tas.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = cli(demo, str(path))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and reason in lines[0]
