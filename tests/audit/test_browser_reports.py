"""In a real browser: the state auditor runs the Security Audit Report, asks for Excel, watches it in
My Reports and downloads it."""
from __future__ import annotations

import io
import re

import pytest

from tests.test_browser import live_server, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(demo):  # noqa: F811  (the demo app, with the report worker thread of a web process)
    demo.config["REPORT_WORKER"] = True
    yield demo
    worker = demo.extensions.get("audit.report_worker")
    if worker is not None:
        worker.stop()


def test_auditor_runs_a_report_and_downloads_it_from_my_reports(page):  # noqa: F811
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Security Audit Report")
    form.get_by_label("Organisation code").fill("101")
    form.get_by_role("button", name="Run report").click()

    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    table = page.locator("table tbody tr")
    expect(table.first).to_contain_text("101")
    expect(page.get_by_text("Pinecrest Parish School System").first).to_be_visible()
    shown = table.count()

    page.get_by_role("button", name="Download Excel").click()
    expect(page).to_have_url(re.compile(r"/reports/mine"))
    expect(page.get_by_text("is being prepared")).to_be_visible()
    row = page.locator("#my-reports tbody tr").first
    expect(row).to_contain_text("Security Audit Report")
    expect(row.get_by_role("progressbar")).to_be_visible()
    download_link = row.get_by_role("link", name=re.compile("Download"))
    expect(download_link).to_be_visible(timeout=60_000)  # the worker finishes; the page polls
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    page.screenshot(path="/tmp/edlink-my-reports.png", full_page=True)
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as fh:
        sheet = load_workbook(io.BytesIO(fh.read()))["Report"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Location Code" and len(rows) - 1 == shown
    assert {r[0] for r in rows[1:]} <= {"101", "101001", "101002", "NP1011", "EC1012"}
