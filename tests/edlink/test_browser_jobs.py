"""In a real browser: a state administrator reads the scheduled jobs, filters the runs to the
failures, and opens the failed nightly audit verification."""
from __future__ import annotations

import datetime as _dt
import re

import pytest

from edlink import clock, jobs
from edlink.scheduler import Scheduler
from tests.audit.tamper import tamper
from tests.test_browser import live_server, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def history(demo):
    """A scheduler that ran every job an hour ago and again now, after the trail was tampered with."""
    scheduler = Scheduler(demo, holder="scheduler@jobs-host:4242:b0b0b0")
    scheduler.tick(clock.now() - _dt.timedelta(days=1))
    tamper("UPDATE audit_event SET action = action || '.changed' WHERE seq = 2")
    scheduler.tick()
    return scheduler


def test_state_administrator_reads_the_job_runs(history, page):  # noqa: F811
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill("stateadmin")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Scheduled jobs").click()
    expect(page.get_by_role("heading", name="Scheduled jobs", level=1)).to_be_visible()
    expect(page.locator("#lease")).to_contain_text("Jobs are run by scheduler@jobs-host:4242:b0b0b0")

    jobs_table = page.locator("#job-table")
    for name in jobs.names(history.app):
        expect(jobs_table.locator(f'tr[data-job="{name}"]')).to_be_visible()
    verify_row = jobs_table.locator('tr[data-job="audit.verify"]')
    expect(verify_row).to_contain_text("daily at 02:00 (America/Chicago)")
    expect(verify_row).to_contain_text("failed")
    expect(verify_row).to_contain_text("last ok")
    dispatch_row = jobs_table.locator('tr[data-job="notifications.dispatch"]')
    expect(dispatch_row).to_contain_text("every 1 min")
    expect(dispatch_row).to_contain_text("ok")
    page.screenshot(path="/tmp/edlink-jobs.png", full_page=True)

    # only the failures
    page.get_by_label("Outcome").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"outcome=failed"))
    expect(page.locator("#run-count")).to_have_text("1 run")
    rows = page.locator("#run-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("audit.verify")
    expect(rows.first).to_contain_text("audit trail broken at seq 2")

    # the run itself: what broke, and who ran it
    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("audit.verify")
    expect(page.locator("#run-outcome")).to_have_text("failed")
    expect(page.locator("#run-error")).to_contain_text("audit trail broken at seq 2: altered")
    expect(page.get_by_text("bad seq: 2")).to_be_visible()
    expect(page.get_by_text("scheduler@jobs-host:4242:b0b0b0")).to_be_visible()
    expect(page.get_by_text("events verified: 1")).to_be_visible()  # the one before the break
    page.screenshot(path="/tmp/edlink-job-run.png", full_page=True)

    # back to every run of the job
    page.get_by_role("link", name=re.compile("Runs of audit.verify")).click()
    expect(page.locator("#run-count")).to_have_text("2 runs")
