"""In a real browser: an IEP writer who may submit walks Jordan's initial IEP from draft through
validation errors, fixes them, makes it official and submits it to SER (Submitted Y, the sped
activity opened); an IEP writer without Submit IEP to SER sees no Submit button and the API
answers 403."""
from __future__ import annotations

import datetime as _dt
import re

import pytest

from edlink import clock
from tests.conftest import login
from tests.ser_core.conftest import events
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)
from tests.workflows.test_browser_requests import sign_in

pytestmark = pytest.mark.browser
JORDAN = "1000100007"


def test_iep_from_draft_to_submitted(page):  # noqa: F811
    from playwright.sync_api import expect
    meeting = clock.today() - _dt.timedelta(days=5)
    sign_in(page, "iepsubmitter")
    page.goto(f"/ser/students/{JORDAN}/ieps")
    expect(page.locator("#no-ieps")).to_be_visible()
    page.get_by_label("IEP Type").select_option("initial")
    page.get_by_role("button", name="Add New IEP").click()
    expect(page.locator("#iep-status")).to_have_text("Draft")

    # validation before anything is entered: red X per form, no Make Official
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_role("heading", name="IEP Validation")).to_be_visible()
    expect(page.locator('tr[data-form="general"][data-level="error"]').first).to_contain_text(
        "The Team Meeting Date is missing.")
    expect(page.locator('tr[data-form="goals"][data-level="error"]')).to_contain_text("IEP-E020")
    expect(page.locator("#make-official")).to_have_count(0)
    page.screenshot(path="/tmp/edlink-iep-validation-errors.png", full_page=True)

    # fix: General Information, then every required form
    page.get_by_role("link", name="← IEP Forms").click()
    page.get_by_role("link", name="View IEP").first.click()
    page.get_by_label("Team Meeting Date").fill(meeting.isoformat())
    page.get_by_label("IEP Begin Date").fill(meeting.isoformat())
    page.get_by_label("IEP End Date").fill(meeting.replace(year=meeting.year + 1).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("General Information is saved.")).to_be_visible()
    forms = page.locator("#iep-forms")
    forms.get_by_role("link", name=re.compile("Present Levels")).click()
    page.get_by_role("textbox", name="Academic Achievement").fill("Names colours and counts to ten.")
    page.get_by_role("button", name="Save").click()
    forms.get_by_role("link", name="Annual Goals").click()
    page.get_by_label("Measurable Annual Goal").fill("Will follow two-step directions in 4 of 5 trials.")
    page.get_by_role("button", name="Save").click()
    forms.get_by_role("link", name="Program Services").click()
    page.get_by_label("Special Education and Related Services").fill("Early childhood special education")
    page.get_by_label("Minutes per Week").fill("300")
    page.get_by_label("Educational Setting").select_option("Regular class 80% or more of the day")
    page.get_by_role("button", name="Save").click()
    forms.get_by_role("link", name="Assessment Participation").click()
    page.get_by_label("Statewide Assessment").select_option("Regular Assessment")
    page.get_by_role("button", name="Save").click()
    forms.get_by_role("link", name="Participants and Signatures").click()
    page.get_by_label("Parent Participated").select_option("Yes")
    page.get_by_role("button", name="Save").click()

    # warnings remain (yellow !), no errors: Make This IEP Official displays
    page.get_by_role("button", name="Validate").click()
    expect(page.locator('tr[data-level="error"]')).to_have_count(0)
    expect(page.locator('tr[data-form="goals"][data-level="warning"]')).to_contain_text("IEP-W021")
    expect(page.locator('tr[data-form="general"][data-level="pass"]')).to_be_visible()
    page.screenshot(path="/tmp/edlink-iep-validation-ok.png", full_page=True)
    page.locator("#make-official").click()
    expect(page.locator("#iep-status")).to_have_text("Official")

    # Submit to SER: the N becomes a Y and the sped activity starts
    page.get_by_role("button", name="Submit to SER").click()
    expect(page.get_by_text("The IEP is submitted to SER.")).to_be_visible()
    expect(page.locator("#iep-submitted")).to_have_text("Y")
    page.get_by_role("link", name="← IEP Forms").click()
    expect(page.locator("#iep-list td.submitted").first).to_have_text("Y")
    page.get_by_role("navigation", name="Student Options").get_by_role("link", name="Sped Activity").click()
    expect(page.locator("#activity")).to_contain_text(meeting.strftime("%m/%d/%Y"))
    assert [e.details["state_id"] for e in events("ser.iep.submitted", "iepsubmitter")][-1] == JORDAN


def test_without_submit_permission_no_button_and_403(page, demo):  # noqa: F811
    from playwright.sync_api import expect

    from ser_core.access import find_student
    from ser_core.ieps.service import ieps
    # Avery's IEP is official (version 2, not resubmitted since the amendment)
    iep = ieps(find_student("1000100001"))[0]
    assert (iep.status, iep.version, iep.submitted) == ("official", 2, False)
    sign_in(page, "iepwriter")
    page.goto(f"/ser/ieps/{iep.id}")
    expect(page.locator("#iep-status")).to_have_text("Official")
    expect(page.get_by_role("button", name="Amend")).to_be_visible()
    expect(page.get_by_role("button", name="Submit to SER")).to_have_count(0)
    client = demo.test_client()
    login(client, "iepwriter")
    resp = client.post(f"/api/v1/ser/ieps/{iep.id}/submit")
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert events("authz.denied", "iepwriter")[-1].details["permission"] == "eser.iep.submit"
