"""In a real browser: a coordinator finds a grant in *Who has access*, revokes it with a reason,
and the holder sees it gone from *My access* with a notification; then a bulk revocation."""
from __future__ import annotations

import re

import pytest

from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.grants import create_grant
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)
from tests.workflows.test_browser_requests import sign_in

pytestmark = pytest.mark.browser


def test_coordinator_revokes_and_the_holder_sees_it(page):  # noqa: F811
    from playwright.sync_api import expect
    create_grant(get_user("teacher"), "eser.reader", get_org("101002"), source="demo", granted_by=None,
                 actor="system:test")
    create_grant(get_user("teacher"), "eser.writer", get_org("101"), source="demo", granted_by=None,
                 actor="system:test")
    db.session.commit()

    sign_in(page, "coordinator")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Who has access").click()
    page.get_by_label("Person").fill("teacher")
    page.get_by_label("Role").select_option("eser.reader")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("#grants")
    expect(table.get_by_role("row")).to_have_count(2)  # header + one grant
    table.get_by_role("link", name=re.compile("details and revoke")).click()
    page.get_by_label("Reason for revoking").fill("moved to another school")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#grant-status")).to_have_text("revoked")
    expect(page.get_by_text("moved to another school").first).to_be_visible()

    page.goto("/grants/bulk-revoke")
    page.get_by_label("Employee numbers").fill("20000002\n12345")
    page.get_by_label("Reason").fill("left the district")
    page.get_by_role("button", name="Revoke").click()
    results = page.locator("#bulk-results")
    expect(results.get_by_role("row").filter(has_text="20000002")).to_contain_text("SER Data Writer at 101")
    expect(results.get_by_role("row").filter(has_text="12345")).to_contain_text("8 digits")

    sign_in(page, "teacher")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My access").click()
    expect(page.get_by_text("You hold no roles yet")).to_be_visible()
    page.goto("/notifications")
    expect(page.get_by_text("moved to another school")).to_be_visible()
    page.screenshot(path="/tmp/edlink-revoked.png", full_page=True)
