"""In a real browser: Pinecrest's SER Data Writer searches, finds a student of Harbor City in the
registry, claims jurisdiction, adds a parent/guardian (which opens the remaining options) and
enters an initial evaluation with a primary exceptionality."""
from __future__ import annotations

import re

import pytest

from edlink import clock
from ser_core import jurisdiction
from ser_core.access import find_student
from tests.ser_core.conftest import events
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)
from tests.workflows.test_browser_requests import sign_in

pytestmark = pytest.mark.browser
DEVON = "1000100004"


def test_writer_searches_claims_adds_a_guardian_and_an_initial_evaluation(page):  # noqa: F811
    from playwright.sync_api import expect
    today = clock.today()
    sign_in(page, "serwriter")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="SER").click()
    expect(page.get_by_role("heading", name=re.compile("student search"))).to_be_visible()

    # Devon is Harbor City's: not in Pinecrest's results
    page.get_by_label("Quick Search").fill("Devon Harbison")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#no-results")).to_contain_text("No students in your jurisdiction match this search.")

    # New Student: find by State ID in the registry; SER says who has the student
    page.get_by_role("link", name="New Student", exact=True).click()
    page.get_by_label("State ID").fill(DEVON)
    page.get_by_role("button", name="Find Student").click()
    expect(page.locator("#in-ser")).to_contain_text("under the jurisdiction of 102 Harbor City Schools")
    expect(page.locator("#in-ser")).to_contain_text("Open Services: No")
    page.get_by_role("link", name="Claim Jurisdiction").click()

    # Add New: the LEA is the writer's and cannot be changed
    expect(page.get_by_label("LEA")).to_have_value("101 Pinecrest Parish School System")
    expect(page.get_by_label("LEA")).to_have_attribute("readonly", "")
    page.get_by_label("Begin Date").fill(today.isoformat())
    page.get_by_label("School Code").select_option("101002")
    page.get_by_label("Local Student ID").fill("123-45-6789")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-error")).to_have_text("Do not use the student's SSN as the Local Student ID.")
    page.get_by_label("Local Student ID").fill("PES-0415")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Jurisdiction claimed at 101002 Pinecrest Elementary School from {today:%m/%d/%Y}."))\
        .to_be_visible()
    expect(page.locator("#jurisdiction-history")).to_contain_text("PES-0415")
    page.screenshot(path="/tmp/edlink-ser-claimed.png", full_page=True)

    # Parent/Guardian: until it is saved, the remaining options stay closed
    options = page.get_by_role("navigation", name="Student Options")
    expect(options.get_by_text("Evaluations")).to_have_attribute("aria-disabled", "true")
    options.get_by_role("link", name="Parent/Guardian").click()
    page.get_by_label("First Name").fill("Reese")
    page.get_by_label("Last Name").fill("Harbison")
    page.get_by_label("Relationship").select_option("Father")
    page.get_by_label("Phone").fill("225-555-0144")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The parent/guardian information is saved.")).to_be_visible()
    expect(page.locator("#guardians")).to_contain_text("Reese Harbison")

    # Evaluations: the initial evaluation's first step, then the rest and a primary exceptionality
    options.get_by_role("link", name="Evaluations").click()
    page.locator("#evaluation-tabs").get_by_role("link", name="Initial").click()
    expect(page.get_by_text("Permission Request Date, Parent Decision, and the Decision/Start Date must be "
                            "saved before you can enter the remaining evaluation information.")).to_be_visible()
    expect(page.get_by_label("Evaluation Completion Date")).to_have_count(0)
    page.get_by_label("Permission Request Date").fill(today.isoformat())
    page.get_by_label("Parent Decision").select_option("consent")
    page.get_by_label("Decision/Start Date").fill((today - jurisdiction.ONE_DAY).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-error")).to_have_text("The Decision/Start Date cannot be before the Permission "
                                                     "Request Date.")
    expect(page.get_by_label("Decision/Start Date")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Decision/Start Date").fill(today.isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The initial evaluation is saved.")).to_be_visible()
    page.get_by_role("combobox", name="Exceptionality").select_option("Specific Learning Disability")
    page.get_by_role("button", name="Save Exceptionality").click()
    expect(page.locator("#exceptionalities")).to_contain_text("Specific Learning Disability")
    page.get_by_label("Evaluation Completion Date").fill(today.isoformat())
    page.get_by_label("Eligibility Determination Date").fill(today.isoformat())
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The initial evaluation is saved.")).to_be_visible()
    page.locator("#evaluation-tabs").get_by_role("link", name="Evaluations").click()
    expect(page.locator("#evaluation-history")).to_contain_text("Specific Learning Disability")
    page.screenshot(path="/tmp/edlink-ser-evaluation.png", full_page=True)

    # and the search finds Devon now
    page.get_by_role("link", name="SER student search").click()
    page.get_by_label("Quick Search").fill("Harbison, Devon")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#results")).to_contain_text(DEVON)

    devon = find_student(DEVON)
    assert (devon.lea.code, devon.site.code) == ("101", "101002")
    previous = jurisdiction.history(devon)[1]
    assert previous.lea.code == "102" and previous.end_date == today - jurisdiction.ONE_DAY
    claimed = events("ser.jurisdiction.claimed", "serwriter")[-1]
    assert (claimed.target_id, claimed.details["from_lea"], claimed.details["local_id"]) == (DEVON, "102", "PES-0415")
    assert len(events("ser.guardian.added", "serwriter")) == 2  # the demo's own, and Reese
    assert events("ser.evaluation.exceptionality_added", "serwriter")[-1].details["primary"] is True
