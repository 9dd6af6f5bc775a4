"""In a real browser: the state auditor reads, filters, exports and verifies the trail."""
from __future__ import annotations

import csv
import io
import re

import pytest

from audit.models import AuditEvent
from edlink.extensions import db
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_auditor_filters_opens_exports_and_verifies(page):  # noqa: F811
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(page.get_by_text("You see every event in the trail.")).to_be_visible()

    page.get_by_label("Action").fill("link.*")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action=link\.\*"))
    rows = page.locator("table tbody tr")
    expect(rows.first).to_contain_text("link.created")
    assert all("link." in text for text in rows.all_inner_texts())

    # one event: its details and a link to the staff record it names
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("link.created")
    expect(page.get_by_role("heading", name="Details")).to_be_visible()
    page.go_back()

    # a bad date comes back with the message, nothing lost
    page.get_by_label("From").fill("last tuesday")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("Some filters are not valid")
    expect(page.get_by_label("From")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("From").fill("")
    page.get_by_role("button", name="Filter").click()

    # the filtered export downloads as CSV, and is itself in the trail
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Export CSV")).click()
    with open(download.value.path(), encoding="utf-8") as fh:
        text = fh.read()
    exported = list(csv.DictReader(io.StringIO(text)))
    assert exported and all(r["action"].startswith("link.") for r in exported)
    db.session.expire_all()
    assert db.session.execute(db.select(AuditEvent).where(
        AuditEvent.action == "report.generated", AuditEvent.actor == "auditor")).scalars().first() is not None

    page.get_by_role("link", name="Verify the chain").click()
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("status").filter(has_text="Intact")).to_be_visible()
    expect(page.get_by_text("audit trail intact")).to_be_visible()
    page.screenshot(path="/tmp/edlink-audit-verified.png", full_page=True)
