"""Reading the trail: GET /api/v1/audit/events (filters, paging by seq, visibility), exports, pages."""
import csv
import datetime as dt
import io
import json

import pytest

import audit
from audit import query as trail
from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.users import get_user
from tests.conftest import login

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _seqs(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [e["seq"] for e in resp.get_json()["events"]]


def _all_visible(client, **params):
    """Walk GET /audit/events page by page (after_seq) and return every seq."""
    seen, after = [], None
    while True:
        query = {**params, "limit": 4}
        if after is not None:
            query["after_seq"] = after
        body = client.get("/api/v1/audit/events", query_string=query).get_json()
        seen += [e["seq"] for e in body["events"]]
        after = body["next_after_seq"]
        if after is None:
            return seen


@pytest.fixture
def trail_events(app):
    """A few events at known times and orgs on top of the demo's own (seeded a month earlier)."""
    from edlink.demo import seed
    clock.set_now(T0 - dt.timedelta(days=30))
    seed()
    clock.set_now(T0)
    teacher, stateadmin = get_user("teacher"), get_user("stateadmin")
    audit.record("test.lea101", teacher, ("thing", "a"), "101", {"n": 1})
    clock.set_now(T0 + dt.timedelta(days=1))
    audit.record("test.lea102", "system:test", ("thing", "b"), "102", {"n": 2})
    clock.set_now(T0 + dt.timedelta(days=2))
    audit.record("test.state", stateadmin, stateadmin, "DS", {"n": 3})
    audit.record("test.about_teacher", "system:test", teacher, None, {"n": 4})
    db.session.commit()
    clock.set_now(T0 + dt.timedelta(days=3))
    return app


def test_state_auditor_pages_through_everything_in_order(client, trail_events):
    login(client, "auditor")
    total = db.session.execute(db.select(db.func.count()).select_from(AuditEvent)).scalar_one()
    seqs = _all_visible(client)
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert len(seqs) >= total  # the sign-in itself was recorded during the walk
    assert seqs[: total] == list(range(1, total + 1))


def test_newest_first_pages_with_before_seq(client, trail_events):
    login(client, "auditor")
    first = client.get("/api/v1/audit/events", query_string={"order": "desc", "limit": 3}).get_json()
    seqs = [e["seq"] for e in first["events"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    assert first["next_before_seq"] == seqs[-1] and first["next_after_seq"] is None
    nxt = _seqs(client.get("/api/v1/audit/events", query_string={
        "order": "desc", "limit": 3, "before_seq": first["next_before_seq"]}))
    assert nxt == [seqs[-1] - 1, seqs[-1] - 2, seqs[-1] - 3]


@pytest.mark.parametrize("params, actions", [
    ({"action": "test.lea102"}, ["test.lea102"]),
    ({"action": "test.*"}, ["test.lea101", "test.lea102", "test.state", "test.about_teacher"]),
    ({"actor": "system:test", "action": "test.*"}, ["test.lea102", "test.about_teacher"]),
    ({"target": "thing:b"}, ["test.lea102"]),
    ({"target": "b"}, ["test.lea102"]),
    ({"org": "102"}, ["test.lea102"]),
    ({"action": "test.*", "since": "2026-03-03", "until": "2026-03-03"}, ["test.lea102"]),  # a date: the whole day
    ({"action": "test.*", "since": "2026-03-03", "until": "2026-03-04T00:00:00Z"}, ["test.lea102"]),
    ({"action": "test.*", "since": "2026-03-03T12:00:00Z"}, ["test.state", "test.about_teacher"]),
    ({"action": "test.*", "until": "2026-03-02T09:00:00Z"}, []),
])
def test_filters(client, trail_events, params, actions):
    login(client, "auditor")
    body = client.get("/api/v1/audit/events", query_string={**params, "limit": 100}).get_json()
    assert [e["action"] for e in body["events"]] == actions


def test_target_filter_with_a_user(client, trail_events):
    login(client, "auditor")
    teacher = get_user("teacher")
    body = client.get("/api/v1/audit/events", query_string={"target": f"user_account:{teacher.id}",
                                                             "action": "test.*"}).get_json()
    assert [e["action"] for e in body["events"]] == ["test.about_teacher"]


@pytest.mark.parametrize("params, field", [
    ({"since": "yesterday"}, "since"), ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-03-05", "until": "2026-03-01"}, "until"), ({"limit": "0"}, "limit"),
    ({"limit": "5000"}, "limit"), ({"after_seq": "x"}, "after_seq"), ({"order": "sideways"}, "order"),
])
def test_bad_filters_are_422_naming_the_field(client, trail_events, params, field):
    login(client, "auditor")
    resp = client.get("/api/v1/audit/events", query_string=params)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] in ("bad_filter", "bad_limit") and field in error["fields"]


def test_lea_coordinator_sees_their_orgs_and_people_only(client, trail_events):
    login(client, "coordinator")
    body = client.get("/api/v1/audit/events", query_string={"limit": 1000}).get_json()
    events = body["events"]
    actions = {e["action"] for e in events}
    assert "test.lea101" in actions          # org 101
    assert "test.about_teacher" in actions   # about a person employed by 101
    assert "test.lea102" not in actions      # another school system
    assert "test.state" not in actions       # the state's own
    teacher = get_user("teacher")
    assert any(e["action"] == "user.created" and e["target_id"] == str(teacher.id) for e in events)
    stateadmin = get_user("stateadmin")
    assert not any(e["actor"] == "stateadmin" or e["target_id"] == str(stateadmin.id) for e in events)
    assert all(e["org"] in (None, "101", "101001", "101002", "NP1011", "EC1012") for e in events)


def test_everyone_sees_their_own_events_only(client, trail_events):
    login(client, "teacher")
    teacher = get_user("teacher")
    events = client.get("/api/v1/audit/events", query_string={"limit": 1000}).get_json()["events"]
    assert events
    assert all(e["actor_id"] == teacher.id or (e["target_type"], e["target_id"]) == ("user_account", str(teacher.id))
               for e in events)
    assert {"test.lea101", "test.about_teacher", "user.login"} <= {e["action"] for e in events}
    other = db.session.execute(db.select(AuditEvent.seq).where(AuditEvent.action == "test.lea102")).scalar_one()
    resp = client.get(f"/api/v1/audit/events/{other}")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "unknown_event"
    assert client.get("/api/v1/audit/verify").status_code == 403


def test_one_event(client, trail_events):
    login(client, "auditor")
    seq = db.session.execute(db.select(AuditEvent.seq).where(AuditEvent.action == "test.lea102")).scalar_one()
    body = client.get(f"/api/v1/audit/events/{seq}").get_json()
    assert (body["seq"], body["org"], body["details"], body["target_id"]) == (seq, "102", {"n": 2}, "b")
    assert client.get("/api/v1/audit/events/999999").status_code == 404


def test_csv_export_streams_the_filtered_view_and_is_itself_an_event(client, trail_events):
    login(client, "auditor")
    resp = client.get("/api/v1/audit/events/export", query_string={"format": "csv", "action": "test.*"})
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["test.lea101", "test.lea102", "test.state", "test.about_teacher"]
    assert json.loads(rows[1]["details"]) == {"n": 2} and len(rows[1]["hash"]) == 64
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "report.generated")).scalar_one()
    assert event.actor == "auditor"
    assert event.details["format"] == "csv" and event.details["filters"] == {"action": "test.*"}


def test_jsonl_export_respects_visibility(client, trail_events):
    login(client, "coordinator")
    resp = client.get("/api/v1/audit/events/export?format=jsonl")
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    actions = {e["action"] for e in lines}
    assert "test.lea101" in actions and "test.lea102" not in actions
    assert [e["seq"] for e in lines] == sorted(e["seq"] for e in lines)


def test_export_refuses_an_unknown_format(client, trail_events):
    login(client, "auditor")
    resp = client.get("/api/v1/audit/events/export?format=xml")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "bad_format"
    assert audit.count("report.generated") == 0


def test_csv_cells_that_look_like_formulas_are_inert(client, demo):
    audit.record("test.formula", "=HYPERLINK(\"x\")", ("thing", "+1"), None, {})
    db.session.commit()
    login(client, "auditor")
    text = client.get("/api/v1/audit/events/export?action=test.formula").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["actor"].startswith("'=") and row["target_id"] == "'+1"


def test_iter_events_reads_in_batches_without_losing_or_repeating(app, demo):
    for i in range(11):
        audit.record("test.batch", "system:test", None, None, {"i": i})
    db.session.commit()
    scope = trail.Scope(everything=True, user_id=None)
    rows = list(trail.iter_events(trail.Filters(action="test.batch"), scope, batch=3))
    assert [r.details["i"] for r in rows] == list(range(11))


def test_audit_pages(client, trail_events):
    login(client, "auditor")
    page = client.get("/audit/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "test.about_teacher" in html and "Audit trail" in html
    assert 'href="/audit/verify"' in html
    filtered = client.get("/audit/?action=test.lea102").get_data(as_text=True)
    assert "test.lea102" in filtered and "test.lea101" not in filtered
    bad = client.get("/audit/?since=nonsense")
    assert bad.status_code == 400 and "Give a date" in bad.get_data(as_text=True)
    empty = client.get("/audit/?action=nothing.here").get_data(as_text=True)
    assert "No events match these filters" in empty
    verified = client.post("/audit/verify", data={"csrf_token": client.csrf_token()})
    assert verified.status_code == 200 and "Intact" in verified.get_data(as_text=True)


def test_audit_pages_page_newest_first(client, demo):
    for i in range(30):
        audit.record("test.many", "system:test", None, None, {"i": i})
    db.session.commit()
    login(client, "auditor")
    first = client.get("/audit/?action=test.many").get_data(as_text=True)
    assert "Older" in first and "before=" in first
    last_seq = db.session.execute(db.select(db.func.max(AuditEvent.seq)).where(
        AuditEvent.action == "test.many")).scalar_one()
    assert f'aria-label="Event {last_seq} details"' in first
    before = first.split("before=")[1].split("&")[0].split('"')[0]
    older = client.get(f"/audit/?action=test.many&before={before}").get_data(as_text=True)
    assert f'aria-label="Event {int(before) - 1} details"' in older and "after=" in older
    after = older.split("after=")[1].split("&")[0].split('"')[0]
    newer = client.get(f"/audit/?action=test.many&after={after}").get_data(as_text=True)
    assert f'aria-label="Event {last_seq} details"' in newer


def test_event_page_links_to_what_it_names(client, demo):
    from edlink.staff import Actor, get_staff, set_username
    set_username(get_staff("1000000011"), "harbor.teacher", Actor("system:test", "cli"))
    db.session.commit()
    seq = db.session.execute(db.select(AuditEvent.seq).where(AuditEvent.action == "staff.username_set")
                             .order_by(AuditEvent.seq.desc())).scalars().first()
    login(client, "auditor")
    html = client.get(f"/audit/{seq}").get_data(as_text=True)
    assert 'href="/staff/1000000011"' in html and "harbor.teacher" in html
    login_seq = db.session.execute(db.select(AuditEvent.seq).where(AuditEvent.action == "link.created")
                                   .order_by(AuditEvent.seq)).scalars().first()
    assert client.get(f"/audit/{login_seq}").status_code == 200


def test_nav_and_visibility_of_pages(client, trail_events):
    login(client, "teacher")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/audit/"' not in home.split("</nav>")[0]
    own = client.get("/audit/").get_data(as_text=True)
    assert "events of your own account" in own and "test.lea102" not in own
    other = db.session.execute(db.select(AuditEvent.seq).where(AuditEvent.action == "test.lea102")).scalar_one()
    assert client.get(f"/audit/{other}").status_code == 404
    assert client.get("/audit/verify").status_code == 403
