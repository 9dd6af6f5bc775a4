"""In a real browser: a coordinator starts an eSER review, keeps two grants, removes one, keeps the
rest with "select all", and the review's progress shows it; the removed grant's holder loses the
access at once."""
from __future__ import annotations

import re

import pytest

from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)
from tests.workflows.reviews_support import grant, staffer, status_of
from tests.workflows.test_browser_requests import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def readers(demo):
    made = {name: grant(staffer(name), days_ago=30) for name in ("reader1", "reader2", "reader3")}
    db.session.commit()
    return made


def test_a_reviewer_keeps_and_removes_access(readers, page):  # noqa: F811
    from playwright.sync_api import expect

    import roles.gate as gate

    sign_in(page, "coordinator")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Access reviews").click()
    page.get_by_role("link", name="Start a review").click()
    page.get_by_label("School system").select_option("101")
    page.get_by_label("Application").select_option("eser")
    page.get_by_label("Days until the deadline").fill("14")
    page.get_by_role("button", name="Start the review").click()
    expect(page.get_by_role("status").filter(has_text="started with 4 grants")).to_be_visible()
    expect(page.locator("#review-progress")).to_contain_text("4 undecided")
    review_id = int(re.search(r"/reviews/(\d+)$", page.url).group(1))

    items = page.locator("#items")
    expect(items.get_by_role("row").filter(has_text="reader1")).to_contain_text("active")
    expect(items.get_by_role("row").filter(has_text="reader1")).to_contain_text("matches")
    row1 = items.get_by_role("row").filter(has_text="reader1")
    row2 = items.get_by_role("row").filter(has_text="reader2")
    row1.get_by_role("checkbox").check()
    row2.get_by_role("checkbox").check()
    page.get_by_label(re.compile("^Comment")).fill("still on the special-education team")
    page.get_by_role("button", name="Keep selected").click()
    expect(page.locator("#results")).to_contain_text("certified")
    expect(page.locator("#review-progress")).to_contain_text("2 kept, 0 removed, 2 undecided")

    row3 = page.locator("#items").get_by_role("row").filter(has_text="reader3")
    row3.get_by_role("checkbox").check()
    page.get_by_label(re.compile("^Comment")).fill("moved to the district office")
    page.get_by_role("button", name="Remove selected").click()
    expect(page.locator("#results")).to_contain_text("revoked")
    expect(page.locator("#review-progress")).to_contain_text("2 kept, 1 removed, 1 undecided")

    page.get_by_label("Select every undecided grant on this page").check()  # the supervisor's grant is left
    page.get_by_role("button", name="Keep selected").click()
    expect(page.locator("#review-progress")).to_contain_text("3 kept, 1 removed, 0 undecided")

    page.get_by_label("Show").select_option("all")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#items").get_by_role("row").filter(has_text="reader3")).to_contain_text("removed")
    page.screenshot(path="/tmp/edlink-review-worklist.png", full_page=True)

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Access reviews").click()
    listed = page.locator("#reviews").get_by_role("row").filter(has_text=f"#{review_id}")
    expect(listed).to_contain_text("3 kept, 1 removed")

    assert status_of(readers["reader3"]) == "revoked" and status_of(readers["reader1"]) == "active"
    db.session.expire_all()
    assert not gate.can(get_user("reader3"), "eser.student.read", get_org("101002"))
