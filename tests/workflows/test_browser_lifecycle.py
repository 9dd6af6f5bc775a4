"""In a real browser: a coordinator suspends and restores a grant on its page; a person whose
confidentiality statement lapsed signs it on the statement page and gets the role back at once."""
from __future__ import annotations

import pytest

from edlink import jobs
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.grants import create_grant
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)
from tests.workflows.test_browser_requests import sign_in

pytestmark = pytest.mark.browser


def test_suspend_restore_and_signing_the_statement(page):  # noqa: F811
    from playwright.sync_api import expect
    teacher = get_user("teacher")
    reader = create_grant(teacher, "eser.reader", get_org("101002"), source="demo", granted_by=None,
                          actor="system:test")
    create_grant(teacher, "eser.iep_forms", get_org("101002"), source="demo", granted_by=None, actor="system:test")
    db.session.commit()
    assert jobs.run("attestations.lapse") == {"lapsed": 1, "suspended": 1, "reminded": 0}  # never signed

    sign_in(page, "coordinator")
    page.goto(f"/grants/{reader.id}")
    page.get_by_label("Reason for suspending").fill("checking a disclosure report")
    page.get_by_role("button", name="Suspend").click()
    expect(page.locator("#grant-status")).to_have_text("suspended")
    expect(page.locator("#grant-reason")).to_have_text("checking a disclosure report")
    page.get_by_label("Reason for restoring").fill("report cleared")
    page.get_by_role("button", name="Restore").click()
    expect(page.locator("#grant-status")).to_have_text("active")

    sign_in(page, "teacher")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Statement").click()
    roles = page.locator("#statement-roles")
    expect(roles.get_by_role("row").filter(has_text="IEP Forms")).to_contain_text("signing restores it")
    page.get_by_role("button", name="I have read it and I sign").click()
    expect(page.get_by_text("1 suspended role(s) that need it are restored")).to_be_visible()
    expect(roles.get_by_role("row").filter(has_text="IEP Forms")).to_contain_text("active")
    expect(page.locator("#statement-status")).to_contain_text("You signed this version")
    page.screenshot(path="/tmp/edlink-statement.png", full_page=True)
