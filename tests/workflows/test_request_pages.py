"""Request pages: the form shows the path and re-renders with the error; the inbox decides in bulk
with a result per item; delegation and the statement pages."""
import datetime as dt

from edlink import clock
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from tests.workflows.test_requests_api import login
from workflows.models import AccessRequest
from workflows.requests import submit


def form(client, url, **data):
    return client.post(url, data={**data, "csrf_token": client.csrf_token()})


def test_request_form_shows_roles_orgs_and_path_and_keeps_input_on_error(client, demo):
    login(client, "teacher")
    page = client.get("/requests/new").get_data(as_text=True)
    assert "SER Data Reader" in page and "Submit request" not in page
    chosen = client.get("/requests/new?role=eser.iep_forms&org=101002").get_data(as_text=True)
    assert "Approval path:" in chosen and "Security Coordinator, Pinecrest Parish School System" in chosen
    assert "Needs a current signed confidentiality statement" in chosen
    refused = form(client, "/requests/new", role="eser.iep_forms", org="101002", justification="IEPs for my class")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "confidentiality statement" in html and "IEPs for my class" in html
    empty = form(client, "/requests/new", role="eser.reader", org="101002", justification=" ")
    assert empty.status_code == 422 and "justification is required" in empty.get_data(as_text=True)


def test_unlinked_person_is_sent_to_link_first(client, demo):
    login(client, "newstaff")
    assert "Link it first" in client.get("/requests/new").get_data(as_text=True)


def test_inbox_bulk_approve_reports_each_item(client, demo):
    first = submit(get_user("teacher"), "eser.reader", get_org("101002"), "one")
    second = submit(get_user("teacher"), "eser.writer", get_org("101002"), "two")
    own = submit(get_user("supervisor"), "eser.reader", get_org("101"), "mine")
    db.session.commit()
    login(client, "supervisor")
    inbox = client.get("/requests/inbox").get_data(as_text=True)
    assert f'value="{first.id}"' in inbox and f'value="{second.id}"' in inbox and f'value="{own.id}"' not in inbox
    resp = client.post("/requests/inbox", data={"csrf_token": client.csrf_token(), "action": "approve",
                                                "request_id": [str(first.id), str(second.id), str(own.id)]})
    html = resp.get_data(as_text=True)
    assert f"Request {first.id}: approved" in html and f"Request {second.id}: approved" in html
    assert f"Request {own.id}: <strong>not done</strong>" in html
    db.session.expire_all()
    assert [db.session.get(AccessRequest, r.id).open_stage().position for r in (first, second)] == [2, 2]
    denied = client.post("/requests/inbox", data={"csrf_token": client.csrf_token(), "action": "deny",
                                                  "request_id": [str(first.id)]})
    assert "Give the reason for the denial" in denied.get_data(as_text=True)


def test_request_detail_decide_and_cancel(client, demo):
    item = submit(get_user("teacher"), "eser.reader", get_org("101002"), "reading")
    db.session.commit()
    login(client, "supervisor")
    page = client.get(f"/requests/{item.id}").get_data(as_text=True)
    assert "Approve" in page and "request.submitted" in page
    bad = form(client, f"/requests/{item.id}", action="deny", reason="")
    assert bad.status_code == 422
    assert form(client, f"/requests/{item.id}", action="approve", comment="fine").status_code == 302
    login(client, "teacher")
    assert "Approve" not in client.get(f"/requests/{item.id}").get_data(as_text=True).split("History")[0].split(
        "Approval path")[1].replace("approved", "")
    assert form(client, f"/requests/{item.id}", action="cancel").status_code == 302
    db.session.expire_all()
    assert db.session.get(AccessRequest, item.id).status == "cancelled"
    login(client, "datamanager")
    assert client.get(f"/requests/{item.id}").status_code == 404


def test_delegation_page(client, demo):
    login(client, "supervisor")
    today = clock.today()
    bad = form(client, "/delegations", delegate="nobody", starts_on=str(today), ends_on=str(today))
    assert bad.status_code == 404 and "No active user" in bad.get_data(as_text=True)
    ok = form(client, "/delegations", delegate="datamanager", starts_on=str(today),
              ends_on=str(today + dt.timedelta(days=5)))
    assert ok.status_code == 302
    assert "in effect" in client.get("/delegations").get_data(as_text=True)
    login(client, "datamanager")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/requests/inbox"' in home  # the delegate now has an inbox


def test_statement_page_signs_the_current_version(client, demo):
    login(client, "teacher")
    page = client.get("/statement").get_data(as_text=True)
    assert "You have not signed it" in page
    stale = form(client, "/statement", statement_version="1999-1")
    assert stale.status_code == 409
    assert form(client, "/statement", statement_version="2026-1").status_code == 302
    assert "You signed this version" in client.get("/statement").get_data(as_text=True)
