"""In a real browser (Debian's Chromium through Playwright): sign in at the realm, call the API
with the session, sign out of EdLink and of the realm."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from audit.models import AuditEvent
from edlink.extensions import db
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def live_kc(make_app, realm):
    """EdLink with EDLINK_IDP=keycloak on http://127.0.0.1:<free port>, its BASE_URL that address."""
    app = make_app(**realm.app_settings())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="edlink-live-kc", daemon=True)
    thread.start()
    try:
        yield app.config["BASE_URL"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page(live_kc):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=live_kc)
            context.set_default_timeout(15_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def _actions(actor: str) -> list[str]:
    db.session.expire_all()
    return [e.action for e in db.session.execute(db.select(AuditEvent).where(
        AuditEvent.actor == actor).order_by(AuditEvent.seq)).scalars()]


def test_sign_in_at_the_realm_and_out_again_in_the_browser(page, realm, live_kc):
    from playwright.sync_api import expect

    # a page that needs signing in goes to the realm's sign-in page
    page.goto("/account")
    expect(page).to_have_url(re.compile(re.escape(realm.issuer) + r"/login-actions/"))
    page.get_by_label("Username or email").fill("newstaff")
    page.get_by_label("Password").fill(realm.user("newstaff")["password"])
    page.get_by_role("button", name="Sign In").click()

    # back at EdLink, on the page asked for, signed in
    expect(page).to_have_url(f"{live_kc}/account")
    expect(page.get_by_text("Signed in as")).to_contain_text("newstaff")
    page.screenshot(path=f"{SCREENSHOTS}/edlink-keycloak-signed-in.png", full_page=True)
    me = page.request.get("/api/v1/me")
    assert me.status == 200 and me.json()["username"] == "newstaff"

    # signing out ends the session here and at the realm, and comes back to EdLink
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_kc}/signed-out")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/edlink-keycloak-signed-out.png", full_page=True)
    assert page.request.get("/api/v1/me").status == 401

    # signing in again asks for the password at the realm: its session ended too
    page.get_by_role("link", name="Sign in with the state identity").click()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(realm.issuer) + r"/login-actions/"))
    assert _actions("newstaff") == ["user.login", "user.logout"]
