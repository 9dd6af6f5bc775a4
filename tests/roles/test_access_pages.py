"""Pages: the catalog, my access, who has access (filters, paging, scope), a grant with revoke, bulk revoke."""
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.grants import create_grant
from roles.models import Grant
from tests.conftest import login


def grant(username, role, org):
    g = create_grant(get_user(username), role, get_org(org), source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    return g


def test_catalog_page_shows_what_each_role_allows_and_who_approves(demo, client):
    login(client, "teacher")
    html = client.get("/catalog").get_data(as_text=True)
    assert "IEP Forms" in html and "eser.iep.edit" in html
    assert "Special Education Supervisor → Security Coordinator" in html
    assert "at most 2 per school system" in html and "signed confidentiality statement" in html


def test_my_access_lists_grants_and_says_when_they_give_nothing(demo, client):
    login(client, "newstaff")
    html = client.get("/access").get_data(as_text=True)
    assert "You hold no roles yet" in html
    grant("newstaff", "eser.reader", "101")
    html = client.get("/access").get_data(as_text=True)
    assert "SER Data Reader" in html and "not linked to a staff record" in html and "not in force" in html


def test_who_has_access_is_scoped_filtered_and_paged(demo, client):
    for org in ("101001", "101002"):
        grant("teacher", "eser.reader", org)
    outside = grant("teacher", "eser.reader", "102001")
    login(client, "teacher")
    assert client.get("/access/who").status_code == 403
    client.post("/logout")
    login(client, "coordinator")
    html = client.get("/access/who").get_data(as_text=True)
    assert "SER Data Reader" in html and "102001" not in html
    html = client.get("/access/who?org=101002&role=eser.reader").get_data(as_text=True)
    assert ">1 grant</p>" in html
    assert "101001" not in html.split('id="grants"')[1]
    html = client.get("/access/who?person=teacher&status=active").get_data(as_text=True)
    assert "2 grants" in html
    assert "Page 1 of" not in html
    resp = client.get("/access/who?status=bogus")
    assert resp.status_code == 422 and "status must be one of" in resp.get_data(as_text=True)
    demo.config["PAGE_SIZE"] = 2
    html = client.get("/access/who").get_data(as_text=True)
    assert "Page 1 of" in html
    assert client.get(f"/grants/{outside.id}").status_code == 404
    api = client.get("/api/v1/grants?role=eser.reader").get_json()
    assert {g["org"] for g in api["grants"]} == {"101001", "101002"}


def test_revoke_from_the_grant_page_and_bulk_revoke_page(demo, client):
    g = grant("teacher", "eser.reader", "101002")
    login(client, "coordinator")
    page = client.get(f"/grants/{g.id}").get_data(as_text=True)
    assert "Reason for revoking" in page
    resp = client.post(f"/grants/{g.id}/revoke", data={"reason": " ", "csrf_token": client.csrf_token()})
    assert resp.status_code == 422 and "Say why" in resp.get_data(as_text=True)
    resp = client.post(f"/grants/{g.id}/revoke", data={"reason": "changed duties", "csrf_token": client.csrf_token()},
                       follow_redirects=True)
    assert resp.status_code == 200 and "changed duties" in resp.get_data(as_text=True)
    assert db.session.get(Grant, g.id).status == "revoked"
    grant("teacher", "eser.writer", "101")
    resp = client.post("/grants/bulk-revoke", data={"employee_numbers": "20000002\n123",
                                                    "reason": "left", "csrf_token": client.csrf_token()})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "SER Data Writer at 101 (teacher)" in html and "8 digits" in html
    resp = client.post("/grants/bulk-revoke", data={"employee_numbers": "", "reason": "left",
                                                    "csrf_token": client.csrf_token()})
    assert resp.status_code == 422 and "at least one employee number" in resp.get_data(as_text=True)


def test_a_holder_gives_up_from_the_grant_page(demo, client):
    g = grant("teacher", "eser.reader", "101002")
    login(client, "teacher")
    assert "Give up this role" in client.get(f"/grants/{g.id}").get_data(as_text=True)
    resp = client.post(f"/grants/{g.id}/revoke", data={"reason": "", "csrf_token": client.csrf_token()},
                       follow_redirects=True)
    assert "You gave up this role" in resp.get_data(as_text=True)
    assert db.session.get(Grant, g.id).status == "revoked"
