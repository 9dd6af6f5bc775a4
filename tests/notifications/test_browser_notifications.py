"""In a real browser: the unread count in the navigation, the notification centre, marking one
and then all notifications read (Chromium driven by Playwright, as tests/test_browser.py)."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from edlink.extensions import db
from edlink.users import find_local_user
from notifications import notify
from tests.notifications.conftest import dispatch

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(demo, smtp):
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="edlink-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=live_server)
            context.set_default_timeout(15_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def test_unread_count_centre_and_marking_read(page, smtp):
    from playwright.sync_api import expect

    teacher = find_local_user("teacher")  # the demo already told the teacher the account is linked
    notify(teacher, "request.approved", {"role": "SER Data Reader", "org": "Pinecrest Elementary School",
                                         "request_id": 11, "decided_by": "Demo Coordinator"}, link="/account")
    notify(teacher, "grant.expiring", {"role": "IEP Forms", "org": "Pinecrest Elementary School"}, link="/account")
    db.session.commit()

    page.goto("/login")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()
    badge = page.locator("#notification-badge")
    expect(badge).to_have_accessible_name("3 unread notifications")

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Notifications", exact=True).click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    items = page.get_by_role("list", name="Notifications", exact=True).get_by_role("listitem")
    expect(items).to_have_count(3)
    approved = items.filter(has_text="Approved: SER Data Reader at Pinecrest Elementary School")
    expect(approved).to_contain_text("was approved by Demo Coordinator")
    expect(items.last).to_contain_text("Your EdLink account is linked to staff ID 1000000002")  # newest first
    page.screenshot(path="/tmp/edlink-notifications-unread.png", full_page=True)

    page.get_by_role("button", name="Mark as read: Approved: SER Data Reader at Pinecrest Elementary School").click()
    expect(page.get_by_role("status").filter(has_text="Marked as read")).to_be_visible()
    expect(badge).to_have_accessible_name("2 unread notifications")
    expect(page.get_by_role("button", name=re.compile("^Mark as read"))).to_have_count(2)

    page.get_by_role("link", name=re.compile("^Unread")).click()
    expect(page.get_by_role("list", name="Notifications", exact=True).get_by_role("listitem")).to_have_count(2)

    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("Marked 2 notifications as read.")).to_be_visible()
    expect(page.locator("#notification-badge")).to_have_count(0)
    expect(page.get_by_text("You have no unread notifications.")).to_be_visible()
    page.screenshot(path="/tmp/edlink-notifications-read.png", full_page=True)

    # the same messages went out by e-mail, each once
    dispatch()
    subjects = [m.subject for m in smtp.to("teacher@demo.example")]
    assert sorted(subjects) == sorted(["Your EdLink account is linked to staff ID 1000000002",
                                       "Approved: SER Data Reader at Pinecrest Elementary School",
                                       "Your access expires soon: IEP Forms at Pinecrest Elementary School"])
