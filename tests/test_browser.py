"""In a real browser: the unlinked demo staff member signs in and links the account.

Chromium is Debian's (/usr/bin/chromium, installed by ``make test`` when missing), driven by
Playwright for Python; the app is served by Werkzeug on a loopback port in a background thread.
"""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from audit.models import AuditEvent
from edlink.extensions import db
from edlink.users import find_local_user

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = "/tmp"


@pytest.fixture
def live_server(demo):
    """The demo app on http://127.0.0.1:<free port>, stopped and closed after the test."""
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
            context.set_default_timeout(30_000)  # generous: CI machines are shared
            tab = context.new_page()
            yield tab
            context.close()
        finally:
            browser.close()


def _events(action: str, actor: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.actor == actor).order_by(AuditEvent.seq)).scalars())


def test_new_staff_member_signs_in_and_links_the_account(page):
    from playwright.sync_api import expect

    # a page that needs signing in sends the browser to the sign-in form
    page.goto("/account/link")
    expect(page).to_have_url(re.compile(r"/login\?next=/account/link$"))
    expect(page.get_by_text("Please sign in to continue.")).to_be_visible()

    page.get_by_label("Username").fill("newstaff")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/account/link$"))
    expect(page.get_by_role("heading", name="Link your username to your staff ID")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_contain_text("newstaff")

    # a refused attempt: somebody else's staff record; the message says so, nothing is linked
    staff_id = page.get_by_label("Staff ID")
    staff_id.fill("1000000002")
    page.get_by_role("button", name="Link my account").click()
    refusal = page.get_by_role("alert").filter(has_text="does not carry your username")
    expect(refusal).to_be_visible()
    expect(page.get_by_label("Staff ID")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=f"{SCREENSHOTS}/edlink-link-refused.png", full_page=True)
    assert find_local_user("newstaff").active_link is None

    # the staff member's own record: linked
    page.get_by_label("Staff ID").fill("1000000001")
    page.get_by_role("button", name="Link my account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("Your account is now linked to staff ID 1000000001.")).to_be_visible()
    expect(page.locator("#link-status")).to_contain_text("Linked to staff ID 1000000001")
    page.screenshot(path=f"{SCREENSHOTS}/edlink-linked.png", full_page=True)

    link = find_local_user("newstaff").active_link
    assert link is not None and link.staff_record.staff_id == "1000000001"
    assert [e.details["reason"] for e in _events("link.failed", "newstaff")] == ["link_mismatch"]
    assert len(_events("link.created", "newstaff")) == 1

    # the link page now only says so
    page.goto("/account/link")
    expect(page.get_by_text("Your account is already linked to staff ID")).to_be_visible()
    expect(page.get_by_label("Staff ID")).to_have_count(0)

    # and signing out ends the session
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))
    assert len(_events("user.logout", "newstaff")) == 1


def test_wrong_password_is_refused_in_the_browser(page):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill("newstaff")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The username or password is not right.")
    expect(page.get_by_label("Username")).to_have_value("newstaff")
    expect(page.get_by_label("Password")).to_have_value("")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))
