"""Jobs driven by a moved clock: inactivity, the confidentiality statement's lapse, grant expiry
notices; coordinators suspending and restoring; the statement page.

Acceptance: statement lapse suspends exactly the grants of roles that need it; signing restores
them immediately.
"""
from __future__ import annotations

import datetime as dt

import pytest

from edlink import clock, jobs
from edlink.cli import main
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles import gate
from roles.models import Grant
from tests.conftest import login
from tests.workflows.lifecycle_helpers import events, grant, grant_events, notices, status
from workflows import attestations
from workflows.suspension import causes

DAY = dt.timedelta(days=1)


@pytest.fixture
def t0(demo):
    """The clock pinned a little after the demo was seeded (its grants start at the real now)."""
    at = clock.now().replace(microsecond=0) + dt.timedelta(minutes=5)
    clock.set_now(at)
    return at


def sign(username: str) -> None:
    attestations.sign(get_user(username), attestations.current_statement().version)
    db.session.commit()


def run(name: str, at: dt.datetime):
    result = jobs.run(name, at)
    db.session.expire_all()
    return result


def seen(username: str, at: dt.datetime) -> None:
    get_user(username).last_login_at = at
    db.session.commit()


# --- inactivity ------------------------------------------------------------------------------

def test_inactivity_suspends_after_the_configured_days_and_only_a_coordinator_restores(demo, t0, client):
    reader = grant("teacher", "eser.reader", "101002")
    seen("coordinator", t0 + 80 * DAY)  # the coordinator signs in now and then
    assert run("users.inactivity", t0 + 89 * DAY)["suspended"] == 0
    assert status(reader) == "active"

    result = run("users.inactivity", t0 + 91 * DAY)
    assert status(reader) == "suspended"
    assert causes([db.session.get(Grant, reader.id)]) == {reader.id: "inactivity"}
    [event] = grant_events(reader, "grant.suspended")
    assert event.actor == "system:users.inactivity" and event.details["days"] == 90
    assert "no sign-in for 90 days" in notices("teacher", "grant.suspended")[0].summary
    assert any("Demo Teacher" in n.summary for n in notices("coordinator", "access.changed"))
    # the other personas who never signed in lose theirs too; the coordinator (seen on day 80) keeps
    assert result["suspended"] >= 2
    assert gate.can(get_user("coordinator"), "edlink.grant.revoke", get_org("101"))
    assert run("users.inactivity", t0 + 92 * DAY) == {"people": 0, "suspended": 0}  # idempotent

    clock.set_now(t0 + 92 * DAY)
    login(client, "teacher")  # signing in again does not restore
    assert status(reader) == "suspended"
    client.post("/logout")
    login(client, "coordinator")
    resp = client.post(f"/api/v1/grants/{reader.id}/restore", json={"reason": "back at work"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "active"
    assert grant_events(reader, "grant.restored")[0].details["suspended_for"] == "inactivity"
    assert notices("teacher", "grant.restored")
    # the teacher signed in on day 92: nothing is idle on day 150, everything on day 183
    assert run("users.inactivity", t0 + 150 * DAY)["suspended"] == 0
    assert status(reader) == "active"
    run("users.inactivity", t0 + 183 * DAY)
    assert status(reader) == "suspended"


def test_a_restored_grant_gets_a_full_period(demo, t0, client):
    reader = grant("teacher", "eser.reader", "101002")
    seen("coordinator", t0 + 90 * DAY)
    run("users.inactivity", t0 + 91 * DAY)
    clock.set_now(t0 + 91 * DAY)
    login(client, "coordinator")
    assert client.post(f"/api/v1/grants/{reader.id}/restore", json={"reason": "asked"}).status_code == 200
    assert run("users.inactivity", t0 + 120 * DAY)["suspended"] == 0
    assert status(reader) == "active"


def test_the_number_of_days_is_configurable(demo, make_app, t0):
    make_app(INACTIVITY_DAYS=30)
    reader = grant("teacher", "eser.reader", "101002")
    run("users.inactivity", t0 + 31 * DAY)
    assert status(reader) == "suspended"


def test_a_bad_setting_stops_the_app(app_config):
    from edlink import create_app
    from edlink.config import ConfigError
    with pytest.raises(ConfigError, match="INACTIVITY_DAYS"):
        create_app({**app_config, "INACTIVITY_DAYS": "ninety"})
    with pytest.raises(ConfigError, match="STATEMENT_REMINDER_DAYS"):
        create_app({**app_config, "STATEMENT_REMINDER_DAYS": [30, 400]})


def test_the_command_line_runs_the_jobs_as_of_an_instant(demo, t0):
    reader = grant("teacher", "eser.reader", "101002")
    at = (t0 + 100 * DAY).isoformat()
    out = demo.test_cli_runner().invoke(main, ["jobs", "run", "users.inactivity", "--now", at])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("users.inactivity: people ")
    assert status(reader) == "suspended"
    out = demo.test_cli_runner().invoke(main, ["jobs", "run", "attestations.lapse", "--now", at])
    assert out.exit_code == 0 and "lapsed" in out.output


# --- coordinators suspend and restore ----------------------------------------------------------

def test_coordinators_suspend_and_restore_in_scope_with_a_reason(demo, client):
    reader = grant("teacher", "eser.reader", "101002")
    outside = grant("teacher", "eser.reader", "102")
    login(client, "coordinator")
    resp = client.post(f"/api/v1/grants/{reader.id}/suspend", json={"reason": " "})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "reason_required"
    resp = client.post(f"/api/v1/grants/{reader.id}/suspend", json={"reason": "investigating a disclosure"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "suspended"
    assert resp.get_json()["status_reason"] == "investigating a disclosure"
    assert grant_events(reader, "grant.suspended")[0].details["cause"] == "coordinator"
    assert notices("teacher", "grant.suspended")
    assert not gate.can(get_user("teacher"), "eser.student.read", get_org("101002"))
    again = client.post(f"/api/v1/grants/{reader.id}/suspend", json={"reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "grant_suspended"
    assert client.post(f"/api/v1/grants/{outside.id}/suspend", json={"reason": "x"}).status_code == 404
    own = db.session.execute(db.select(Grant).where(Grant.user_id == get_user("coordinator").id)).scalars().one()
    resp = client.post(f"/api/v1/grants/{own.id}/suspend", json={"reason": "x"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "own_grant"
    resp = client.post(f"/api/v1/grants/{reader.id}/restore", json={"reason": "cleared"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "active"
    assert client.post(f"/api/v1/grants/{reader.id}/restore", json={"reason": "x"}).status_code == 409
    client.post("/logout")
    login(client, "auditor")
    assert client.post(f"/api/v1/grants/{reader.id}/suspend", json={"reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, "teacher")
    assert client.post(f"/api/v1/grants/{reader.id}/suspend", json={"reason": "x"}).status_code == 404


def test_the_grant_page_has_suspend_and_restore_buttons_for_coordinators(demo, client):
    reader = grant("teacher", "eser.reader", "101002")
    login(client, "coordinator")
    page = client.get(f"/grants/{reader.id}").get_data(as_text=True)
    assert 'id="suspend"' in page and 'id="restore"' not in page
    resp = client.post(f"/grants/{reader.id}/suspend", data={"reason": "", "csrf_token": client.csrf_token()})
    assert resp.status_code == 422 and "reason" in resp.get_data(as_text=True).lower()
    resp = client.post(f"/grants/{reader.id}/suspend", data={"reason": "on hold", "csrf_token": client.csrf_token()})
    assert resp.status_code == 302
    page = client.get(f"/grants/{reader.id}").get_data(as_text=True)
    assert 'id="restore"' in page and "on hold" in page
    resp = client.post(f"/grants/{reader.id}/restore", data={"reason": "fine", "csrf_token": client.csrf_token()})
    assert resp.status_code == 302 and status(reader) == "active"
    client.post("/logout")
    login(client, "teacher")
    page = client.get(f"/grants/{reader.id}").get_data(as_text=True)
    assert 'id="suspend"' not in page and 'id="give-up"' in page


# --- the confidentiality statement ---------------------------------------------------------------

def test_statement_lapse_suspends_exactly_the_roles_that_need_it_and_signing_restores_them(demo, t0, client):
    sign("teacher")
    forms = grant("teacher", "eser.iep_forms", "101002")      # needs the statement
    reader = grant("teacher", "eser.reader", "101002")       # does not
    writer = grant("teacher", "eser.writer", "101")          # does not
    other = grant("supervisor", "eser.iep_forms", "101")     # someone else's, signed later
    clock.set_now(t0 + 100 * DAY)
    sign("supervisor")
    teacher = get_user("teacher")

    assert run("attestations.lapse", t0 + 334 * DAY) == {"lapsed": 0, "suspended": 0, "reminded": 0}
    assert run("attestations.lapse", t0 + 336 * DAY)["reminded"] == 1       # 30 days before
    assert run("attestations.lapse", t0 + 340 * DAY)["reminded"] == 0       # once
    assert run("attestations.lapse", t0 + 359 * DAY)["reminded"] == 1       # 7 days before
    assert run("attestations.lapse", t0 + 364 * DAY)["reminded"] == 0
    due = notices("teacher", "attestation.due")
    assert len(due) == 2 and due[0].link == "/statement"
    assert status(forms) == "active"

    result = run("attestations.lapse", t0 + 366 * DAY)
    assert result == {"lapsed": 1, "suspended": 1, "reminded": 0}
    assert [status(g) for g in (forms, reader, writer, other)] == ["suspended", "active", "active", "active"]
    assert causes([db.session.get(Grant, forms.id)]) == {forms.id: "statement"}
    [lapsed] = events("attestation.lapsed")
    assert lapsed.target_id == str(teacher.id) and lapsed.details["grants"] == [forms.id]
    assert notices("teacher", "attestation.lapsed")
    clock.set_now(t0 + 366 * DAY)
    assert not gate.can(teacher, "eser.iep.edit", get_org("101002"))
    assert gate.can(teacher, "eser.student.read", get_org("101002"))
    assert run("attestations.lapse", t0 + 367 * DAY)["suspended"] == 0  # idempotent

    login(client, "teacher")
    page = client.get("/statement").get_data(as_text=True)
    assert "lapsed" in page and "signing restores it" in page
    version = attestations.current_statement().version
    assert client.get("/api/v1/me").get_json()["attestation"]["lapses_at"] == (t0 + 365 * DAY).isoformat()
    resp = client.post("/api/v1/me/attestations", json={"statement_version": version})
    assert resp.status_code == 201
    assert client.get("/api/v1/me").get_json()["attestation"]["lapses_at"] == (t0 + 731 * DAY).isoformat()
    assert status(forms) == "active"  # in the signing transaction
    restored = grant_events(forms, "grant.restored")[-1]
    assert restored.actor == "teacher" and restored.details["suspended_for"] == "statement"
    assert gate.can(get_user("teacher"), "eser.iep.edit", get_org("101002"))


def test_someone_who_never_signed_loses_the_roles_that_need_it_at_the_next_run(demo, t0):
    forms = grant("teacher", "eser.iep_forms", "101002")
    reader = grant("teacher", "eser.reader", "101002")
    assert run("attestations.lapse", t0 + DAY) == {"lapsed": 1, "suspended": 1, "reminded": 0}
    assert (status(forms), status(reader)) == ("suspended", "active")
    assert "never signed" in db.session.get(Grant, forms.id).status_reason


def test_signing_restores_only_what_the_lapse_suspended(demo, t0, client):
    forms = grant("teacher", "eser.iep_forms", "101002")
    run("attestations.lapse", t0 + DAY)
    clock.set_now(t0 + 2 * DAY)
    other = grant("teacher", "eser.iep_forms", "101")
    login(client, "coordinator")
    resp = client.post(f"/api/v1/grants/{forms.id}/restore", json={"reason": "please"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "statement_lapsed"
    assert client.post(f"/api/v1/grants/{other.id}/suspend", json={"reason": "on hold"}).status_code == 200
    client.post("/logout")
    login(client, "teacher")
    version = attestations.current_statement().version
    resp = client.post("/statement", data={"action": "sign", "statement_version": version,
                                           "csrf_token": client.csrf_token()}, follow_redirects=True)
    assert "1 suspended role(s) that need it are restored" in resp.get_data(as_text=True)
    assert (status(forms), status(other)) == ("active", "suspended")


def test_state_administrators_publish_new_versions_on_the_statement_page(demo, client):
    login(client, "teacher")
    page = client.get("/statement").get_data(as_text=True)
    assert "Publish a new version" not in page
    resp = client.post("/statement", data={"action": "publish", "version": "2027-1", "title": "T", "text": "x",
                                           "csrf_token": client.csrf_token()})
    assert resp.status_code == 403
    client.post("/logout")
    login(client, "stateadmin")
    assert "Publish a new version" in client.get("/statement").get_data(as_text=True)
    resp = client.post("/statement", data={"action": "publish", "version": "2027-1", "title": "",
                                           "text": "x", "csrf_token": client.csrf_token()})
    assert resp.status_code == 422
    resp = client.post("/statement", data={"action": "publish", "version": "2027-1",
                                           "title": "Confidentiality of student records, 2027",
                                           "text": "I keep student records confidential.",
                                           "csrf_token": client.csrf_token()}, follow_redirects=True)
    assert resp.status_code == 200 and "Version 2027-1 is published" in resp.get_data(as_text=True)
    assert attestations.current_statement().version == "2027-1"
    assert events("statement.published")[-1].actor == "stateadmin"


# --- grants with an end date ---------------------------------------------------------------------

def test_a_grant_with_an_end_date_gets_one_notice_seven_days_before_and_expires_on_the_day(demo, t0):
    reader = grant("teacher", "eser.reader", "101002", ends_at=t0 + 20 * DAY)
    assert run("grants.expire", t0 + 12 * DAY) == {"expired": 0, "expiring_notices": 0}
    assert run("grants.expire", t0 + 14 * DAY) == {"expired": 0, "expiring_notices": 1}
    assert run("grants.expire", t0 + 15 * DAY) == {"expired": 0, "expiring_notices": 0}
    [notice] = notices("teacher", "grant.expiring")
    assert notice.link == f"/grants/{reader.id}"
    assert run("grants.expire", t0 + 20 * DAY) == {"expired": 1, "expiring_notices": 0}
    assert status(reader) == "expired"
