"""The in-app notification centre: the API, the pages, the unread badge."""
from __future__ import annotations

import datetime as _dt

from edlink import clock
from edlink.extensions import db
from notifications import notify
from tests.conftest import login

PASSWORD = "a-long-test-password"


def three_for(user):
    for n in range(3):
        clock.advance(_dt.timedelta(minutes=1))
        notify(user, "grant.expiring", {"role": f"Role {n}", "org": "Test LEA",
                                        "expires_on": _dt.date(2030, 6, n + 1)}, link=f"/grants/{n}")
    db.session.commit()


def signed_in(app, username):
    client = app.test_client()
    login(client, username, PASSWORD)
    return client


def test_api_lists_counts_and_marks_read(app, smtp, person):
    clock.set_now(clock.now())
    me, other = person("staffer1", email="s1@school.example"), person("staffer2", email="s2@school.example")
    three_for(me)
    notify(other, "grant.revoked", {"role": "Not yours", "org": "Test LEA"})
    db.session.commit()
    assert app.test_client().get("/api/v1/notifications").status_code == 401

    client = signed_in(app, "staffer1")
    body = client.get("/api/v1/notifications").get_json()
    assert (body["unread"], body["total"], body["page"], body["per_page"]) == (3, 3, 1, 25)
    titles = [item["title"] for item in body["items"]]
    assert titles == [f"Your access expires soon: Role {n} at Test LEA" for n in (2, 1, 0)]  # newest first
    first = body["items"][0]
    assert first["link"] == "/grants/2" and first["url"] == "https://edlink.test/grants/2"
    assert first["read"] is False and first["read_at"] is None and first["action_needed"] is False
    assert "expires on 3 June 2030" in first["summary"]

    page2 = client.get("/api/v1/notifications?per_page=2&page=2").get_json()
    assert [i["title"] for i in page2["items"]] == [titles[2]] and page2["total"] == 3

    resp = client.post(f"/api/v1/notifications/{first['id']}/read")
    assert resp.status_code == 200 and resp.get_json()["read"] is True
    read_at = resp.get_json()["read_at"]
    assert client.post(f"/api/v1/notifications/{first['id']}/read").get_json()["read_at"] == read_at  # idempotent
    unread = client.get("/api/v1/notifications?unread=true").get_json()
    assert unread["unread"] == 2 and [i["title"] for i in unread["items"]] == titles[1:]

    theirs = client.get("/api/v1/notifications").get_json()["items"][-1]["id"] + 100
    for missing in (theirs, 4):  # 4 is staffer2's: as unknown as one that does not exist
        resp = client.post(f"/api/v1/notifications/{missing}/read")
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "unknown_notification"
    assert client.get("/api/v1/notifications?per_page=500").status_code == 422

    resp = client.post("/api/v1/notifications/read-all")
    assert resp.get_json() == {"marked": 2, "unread": 0}
    assert client.get("/api/v1/notifications").get_json()["unread"] == 0
    other_client = signed_in(app, "staffer2")
    assert other_client.get("/api/v1/notifications").get_json()["unread"] == 1  # only mine were marked


def test_session_api_calls_need_the_csrf_header(app, smtp, person):
    person("staffer1", email="s1@school.example")
    client = signed_in(app, "staffer1")
    resp = client.post("/api/v1/notifications/read-all", csrf=False)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"


def test_pages_show_the_badge_list_and_mark_read(make_app, smtp, person):
    app = make_app(PAGE_SIZE=2)
    clock.set_now(clock.now())
    me = person("staffer1", email="s1@school.example")
    client = signed_in(app, "staffer1")
    page = client.get("/notifications").get_data(as_text=True)
    assert "You have no notifications yet." in page and 'id="notification-badge"' not in page

    three_for(me)
    home = client.get("/account").get_data(as_text=True)
    assert 'id="notification-badge"' in home and '3<span class="visually-hidden"> unread notifications</span>' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert "Role 2" in page and "Role 1" in page and "Role 0" not in page  # two a page
    assert "Page 1 of 2" in page and "Mark all as read" in page
    assert "Role 0" in client.get("/notifications?page=2").get_data(as_text=True)

    items = client.get("/api/v1/notifications").get_json()["items"]
    resp = client.post(f"/notifications/{items[0]['id']}/read", data={"csrf_token": client.csrf_token()})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/notifications")
    assert '2<span class="visually-hidden"> unread notifications</span>' in client.get("/notifications").get_data(
        as_text=True)
    assert client.post(f"/notifications/{items[1]['id']}/read", data={}, csrf=False).status_code == 400  # no CSRF

    resp = client.get(f"/notifications/{items[1]['id']}/open")  # following the link marks it read
    assert resp.status_code == 302 and resp.headers["Location"] == "/grants/1"
    unread = client.get("/notifications?show=unread").get_data(as_text=True)
    assert "Role 0" in unread and "Role 1" not in unread

    resp = client.post("/notifications/read-all", data={"csrf_token": client.csrf_token()}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "Marked 1 notification as read." in text and 'id="notification-badge"' not in text
    assert "You have no unread notifications." in client.get("/notifications?show=unread").get_data(as_text=True)
    assert client.get("/notifications/999/open").status_code == 404


def test_navigation_offers_the_centre_and_the_outbox_only_to_state_admins(demo, smtp):
    admin = demo.test_client()
    login(admin, "stateadmin")
    page = admin.get("/").get_data(as_text=True)
    assert 'href="/notifications"' in page and 'href="/notifications/outbox"' in page
    teacher = demo.test_client()
    login(teacher, "teacher")
    page = teacher.get("/").get_data(as_text=True)
    assert 'href="/notifications"' in page and 'href="/notifications/outbox"' not in page
    # the demo's own "account linked" notice is waiting for the teacher
    assert '1<span class="visually-hidden"> unread notifications</span>' in page


def test_openapi_describes_the_notifications_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/notifications", "/api/v1/notifications/{notification_id}/read",
            "/api/v1/notifications/read-all", "/api/v1/notifications/preferences"} <= set(paths)
