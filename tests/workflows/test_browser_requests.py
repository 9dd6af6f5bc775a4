"""In a real browser: IEP Forms requested, approved in two stages, granted; and a denial with its reason."""
from __future__ import annotations

import re

import pytest

from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def sign_in(page, username):  # noqa: F811
    # every response, static files included, refreshes the (permanent) session cookie: let the page
    # finish loading and leave the app, or a late response signs the last user in again
    page.wait_for_load_state("load")
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()
    from playwright.sync_api import expect
    expect(page.get_by_text("Signed in as")).to_contain_text(username)


def approve_in_inbox(page, username, request_id):  # noqa: F811
    from playwright.sync_api import expect
    sign_in(page, username)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Approvals").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=str(request_id), exact=True))
    expect(row).to_contain_text("IEP Forms")
    row.get_by_role("link", name=str(request_id), exact=True).click()
    page.get_by_label("Comment (optional)").fill(f"checked by {username}")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved.")).to_be_visible()


def test_iep_forms_requested_and_approved_in_two_stages(page):  # noqa: F811
    from playwright.sync_api import expect

    import roles.gate as gate

    sign_in(page, "teacher")
    page.goto("/statement")
    page.get_by_role("button", name=re.compile("I have read it and I sign")).click()
    expect(page.locator("#statement-status")).to_contain_text("You signed this version")

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My requests").click()
    page.get_by_role("link", name="Request access").first.click()
    page.get_by_label("Role", exact=True).select_option("eser.iep_forms")
    page.get_by_role("button", name="Show the approval path").click()
    page.get_by_label("Where", exact=True).select_option("101002")
    page.get_by_role("button", name="Show the approval path").click()
    expect(page.locator("#approval-path")).to_contain_text(
        "Special Education Supervisor, Pinecrest Parish School System → Security Coordinator, Pinecrest Parish")
    page.get_by_label("Why you need it").fill("I write the IEPs for my caseload at Pinecrest Elementary.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_role("status").filter(has_text="submitted")).to_be_visible()
    expect(page.locator("#request-status")).to_have_text("pending")
    request_id = int(re.search(r"/requests/(\d+)$", page.url).group(1))

    approve_in_inbox(page, "supervisor", request_id)
    approve_in_inbox(page, "coordinator", request_id)
    expect(page.locator("#request-status")).to_have_text("approved")

    sign_in(page, "teacher")
    page.goto("/requests")
    expect(page.get_by_role("row").filter(has_text="IEP Forms")).to_contain_text("approved")
    page.screenshot(path="/tmp/edlink-request-approved.png", full_page=True)
    db.session.expire_all()
    assert gate.can("eser.iep.edit", get_org("101002"), get_user("teacher"))
    assert not gate.can("eser.iep.edit", get_org("101001"), get_user("teacher"))


def test_a_denial_shows_its_reason_to_the_requester(page):  # noqa: F811
    from playwright.sync_api import expect

    sign_in(page, "teacher")
    page.goto("/requests/new?role=eser.reader&org=101002")
    page.get_by_label("Why you need it").fill("Reading records for my class.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#request-status")).to_have_text("pending")
    request_id = int(re.search(r"/requests/(\d+)$", page.url).group(1))

    sign_in(page, "supervisor")
    page.goto(f"/requests/{request_id}")
    page.get_by_role("button", name="Deny").click()  # the reason is required: the browser stops it
    expect(page.locator("#request-status")).to_have_text("pending")
    page.get_by_label("Reason for denying").fill("Not on a special-education caseload this year.")
    page.get_by_role("button", name="Deny").click()
    expect(page.locator("#request-status")).to_have_text("denied")

    sign_in(page, "teacher")
    page.goto(f"/requests/{request_id}")
    expect(page.locator("#request-reason")).to_contain_text("Not on a special-education caseload this year.")
