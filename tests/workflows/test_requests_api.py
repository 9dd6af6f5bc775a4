"""The request API: submit with its path, inbox / mine / all, decisions with their codes, delegation."""
import datetime as dt

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from tests.conftest import login as first_login


def login(client, name):
    """Sign out whoever is signed in, then sign in as ``name``."""
    client.post("/logout")
    return first_login(client, name)


def post(client, url, body=None):
    return client.post(url, json=body or {})


def error_code(resp):
    return resp.get_json()["error"]["code"]


def submit_as_teacher(client, role="eser.reader", org="101002"):
    login(client, "teacher")
    resp = post(client, "/api/v1/requests", {"role": role, "org": org, "justification": "I teach students with IEPs."})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_submit_answers_with_the_routed_path(client, demo):
    body = submit_as_teacher(client)
    assert body["status"] == "pending" and body["requester"] == "teacher"
    assert body["path"] == ("Special Education Supervisor, Pinecrest Parish School System → "
                            "Security Coordinator, Pinecrest Parish School System")
    assert [s["status"] for s in body["stages"]] == ["open", "waiting"]
    assert body["stages"][0]["approvers"] == ["supervisor"] and body["stages"][0]["due_at"]
    mine = client.get("/api/v1/requests?view=mine").get_json()
    assert [r["id"] for r in mine["requests"]] == [body["id"]]
    me = client.get("/api/v1/me").get_json()
    assert [r["id"] for r in me["pending_requests"]] == [body["id"]]


def test_path_preview_before_submission(client, demo):
    login(client, "teacher")
    body = client.get("/api/v1/requests/path?role=eser.iep_forms&org=101002").get_json()
    assert body["path"].startswith("Special Education Supervisor, Pinecrest Parish School System")


def test_submission_errors_are_4xx_with_codes(client, demo):
    login(client, "teacher")
    cases = [({"role": "eser.reader", "org": "101001", "justification": "x"}, 403, "org_not_allowed"),
             ({"role": "eser.reader", "org": "101002", "justification": ""}, 422, "justification_required"),
             ({"role": "no.such", "org": "101002", "justification": "x"}, 404, "unknown_role"),
             ({"role": "eser.reader", "org": "nowhere", "justification": "x"}, 404, None),
             ({"role": "eser.iep_forms", "org": "101002", "justification": "x"}, 403, "statement_required"),
             ({"role": "eser.reader", "org": "101002", "justification": "x", "ends_at": "soon"}, 422, "bad_end_date"),
             ({"org": "101002"}, 422, "validation_error")]
    for body, status, code in cases:
        resp = post(client, "/api/v1/requests", body)
        assert resp.status_code == status, (body, resp.get_json())
        if code:
            assert error_code(resp) == code


def test_inbox_decide_and_the_grant(client, demo):
    made = submit_as_teacher(client)
    rid = made["id"]
    assert error_code(post(client, f"/api/v1/requests/{rid}/approve")) == "self_approval"
    login(client, "coordinator")
    assert client.get("/api/v1/requests?view=inbox").get_json()["total"] == 0
    assert error_code(post(client, f"/api/v1/requests/{rid}/approve")) == "not_routed_to_you"
    login(client, "supervisor")
    inbox = client.get("/api/v1/requests?view=inbox").get_json()
    assert [r["id"] for r in inbox["requests"]] == [rid]
    assert post(client, f"/api/v1/requests/{rid}/approve", {"comment": "caseload confirmed"}).status_code == 200
    assert error_code(post(client, f"/api/v1/requests/{rid}/approve")) in ("second_stage", "not_routed_to_you")
    login(client, "coordinator")
    assert [r["id"] for r in client.get("/api/v1/requests?view=inbox").get_json()["requests"]] == [rid]
    done = post(client, f"/api/v1/requests/{rid}/approve").get_json()
    assert done["status"] == "approved" and done["grant_id"]
    assert post(client, f"/api/v1/requests/{rid}/approve").status_code == 409
    login(client, "teacher")
    grants = client.get("/api/v1/me").get_json()["grants"]
    assert [(g["role"], g["org"]) for g in grants] == [("eser.reader", "101002")]


def test_deny_reason_is_shown_to_the_requester(client, demo):
    rid = submit_as_teacher(client)["id"]
    login(client, "supervisor")
    resp = post(client, f"/api/v1/requests/{rid}/deny", {"reason": ""})
    assert resp.status_code == 422 and error_code(resp) == "reason_required"
    assert post(client, f"/api/v1/requests/{rid}/deny", {"reason": "Not on a caseload."}).status_code == 200
    login(client, "teacher")
    body = client.get(f"/api/v1/requests/{rid}").get_json()
    assert (body["status"], body["reason"]) == ("denied", "Not on a caseload.")


def test_cancel_and_visibility(client, demo):
    rid = submit_as_teacher(client)["id"]
    login(client, "datamanager")  # neither requester, approver nor coordinator
    assert client.get(f"/api/v1/requests/{rid}").status_code == 404
    assert client.get("/api/v1/requests?view=all").status_code == 403
    login(client, "coordinator")
    assert [r["id"] for r in client.get("/api/v1/requests?view=all").get_json()["requests"]] == [rid]
    assert error_code(post(client, f"/api/v1/requests/{rid}/cancel")) == "not_your_request"
    login(client, "teacher")
    assert post(client, f"/api/v1/requests/{rid}/cancel").get_json()["status"] == "cancelled"
    assert error_code(post(client, f"/api/v1/requests/{rid}/cancel")) == "not_cancellable"
    assert client.get("/api/v1/requests?view=sideways").status_code == 422


def test_statement_signing_unlocks_iep_forms(client, demo):
    from workflows import attestations
    attestations.publish("2027-1", "Confidentiality statement", "I keep student data confidential.", None,
                         actor="system:test")  # a newer version than the demo's 2026-1
    db.session.commit()
    login(client, "teacher")
    assert error_code(post(client, "/api/v1/me/attestations", {"statement_version": "2026-1"})) == \
        "statement_version_stale"
    assert post(client, "/api/v1/me/attestations", {"statement_version": "2027-1"}).status_code == 201
    assert client.get("/api/v1/me").get_json()["attestation"]["current"] is True
    resp = post(client, "/api/v1/requests", {"role": "eser.iep_forms", "org": "101002", "justification": "IEPs"})
    assert resp.status_code == 201


def test_delegation_via_api(client, demo):
    today = clock.today()
    login(client, "supervisor")
    bad = post(client, "/api/v1/delegations", {"delegate": "stateadmin", "starts_on": str(today),
                                               "ends_on": str(today - dt.timedelta(days=1))})
    assert bad.status_code == 422 and error_code(bad) == "bad_dates"
    outsider = post(client, "/api/v1/delegations", {"delegate": "auditor", "starts_on": str(today),
                                                    "ends_on": str(today + dt.timedelta(days=3))})
    assert error_code(outsider) == "delegate_not_allowed"
    made = post(client, "/api/v1/delegations", {"delegate": "datamanager", "starts_on": str(today),
                                                 "ends_on": str(today + dt.timedelta(days=3))})
    assert made.status_code == 201 and made.get_json()["in_effect"] is True
    rid = submit_as_teacher(client)["id"]
    login(client, "datamanager")
    assert [r["id"] for r in client.get("/api/v1/requests?view=inbox").get_json()["requests"]] == [rid]
    assert post(client, f"/api/v1/requests/{rid}/approve").status_code == 200
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "request.stage_approved")
                               ).scalar_one()
    assert (event.actor, event.details["on_behalf_of"]) == ("datamanager", "supervisor")
