"""Configuration (defaults, instance/edlink.toml, EDLINK_* variables, production checks) and the
error envelope: JSON under /api/v1, a page for people, never a traceback."""
from __future__ import annotations

import datetime as _dt
import logging

import pytest

from edlink import clock, create_app
from edlink.config import DEFAULT_AUDIT_KEY, DEFAULT_SECRET_KEY, ConfigError
from edlink.errors import Conflict
from edlink.extensions import db
from edlink.models import User
from edlink.users import create_local_user
from tests.conftest import login

GOOD_SECRET = "a-production-secret-0123456789"
GOOD_AUDIT = "a-production-audit-key-0123456789"


@pytest.fixture
def build(app_config):
    """create_app(config) for tests that look at configuration; its engine is disposed after."""
    made = []

    def _build(config):
        application = create_app(config)
        made.append(application)
        return application

    yield _build
    for application in made:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _no_stray_edlink_env(monkeypatch):
    """These tests set EDLINK_* variables themselves: start from none."""
    import os
    for key in list(os.environ):
        if key.startswith("EDLINK_") and key not in ("EDLINK_TEST_DATABASE", "EDLINK_TEST_PG_URL"):
            monkeypatch.delenv(key)


def without(config: dict, *keys: str) -> dict:
    return {k: v for k, v in config.items() if k not in keys}


def assert_envelope(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    assert "Traceback" not in resp.get_data(as_text=True)
    return error


# --- production refuses default secrets -------------------------------------------------------

@pytest.mark.parametrize("secret, audit_key, named", [
    (DEFAULT_SECRET_KEY, GOOD_AUDIT, "EDLINK_SECRET_KEY"),
    ("", GOOD_AUDIT, "EDLINK_SECRET_KEY"),
    (GOOD_SECRET, DEFAULT_AUDIT_KEY, "EDLINK_AUDIT_KEY"),
    (GOOD_SECRET, "", "EDLINK_AUDIT_KEY"),
])
def test_production_refuses_default_keys(build, app_config, secret, audit_key, named):
    with pytest.raises(ConfigError, match=named):
        build({**app_config, "ENV": "production", "SECRET_KEY": secret, "AUDIT_KEY": audit_key})


def test_production_refuses_the_defaults_when_nothing_is_set(build, app_config, monkeypatch):
    monkeypatch.setenv("EDLINK_ENV", "production")
    with pytest.raises(ConfigError, match="EDLINK_SECRET_KEY"):
        build(without(app_config, "SECRET_KEY"))


def test_production_with_own_keys_starts_with_secure_cookies(build, app_config, monkeypatch):
    monkeypatch.setenv("EDLINK_ENV", "production")
    monkeypatch.setenv("EDLINK_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("EDLINK_AUDIT_KEY", GOOD_AUDIT)
    app = build(without(app_config, "SECRET_KEY"))
    assert app.config["PRODUCTION"] is True
    assert app.secret_key == GOOD_SECRET
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_allows_the_default_keys(build, app_config):
    app = build(without(app_config, "SECRET_KEY"))
    assert app.config["PRODUCTION"] is False
    assert app.secret_key == DEFAULT_SECRET_KEY
    assert not app.config.get("SESSION_COOKIE_SECURE")


def test_unknown_identity_provider_is_refused(build, app_config):
    with pytest.raises(ConfigError, match="EDLINK_IDP"):
        build({**app_config, "IDP": "ldap"})


# --- where settings come from -----------------------------------------------------------------

def test_defaults(build, app_config):
    app = build(app_config)
    assert app.config["IDP"] == "local"
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 30
    assert app.config["PERMANENT_SESSION_LIFETIME"] == _dt.timedelta(minutes=30)
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert app.config["LINK_MAX_FAILURES_PER_HOUR"] == 5
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_instance_toml_is_read(build, app_config, tmp_path):
    instance = tmp_path / "custom-instance"
    instance.mkdir()
    (instance / "edlink.toml").write_text(
        'IDLE_TIMEOUT_MINUTES = 7\n'
        'login_max_failures = 2\n'  # keys in any case,
        'EDLINK_MAIL_FROM = "access@state.example"\n'  # with or without the prefix
        'SMTP_PORT = 2525\n', encoding="utf-8")
    app = build({**app_config, "INSTANCE_PATH": str(instance)})
    assert app.instance_path == str(instance)
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 7
    assert app.config["PERMANENT_SESSION_LIFETIME"] == _dt.timedelta(minutes=7)
    assert app.config["LOGIN_MAX_FAILURES"] == 2
    assert app.config["MAIL_FROM"] == "access@state.example"
    assert app.config["SMTP_PORT"] == 2525


def test_instance_toml_setting_changes_behaviour(make_app, app_config, tmp_path):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "edlink.toml").write_text("LOGIN_MAX_FAILURES = 2\n", encoding="utf-8")
    app = make_app(INSTANCE_PATH=str(instance))
    create_local_user("alice", "correct-horse-1")
    db.session.commit()
    client = app.test_client()
    bodies = [client.post("/login", data={"username": "alice", "password": "wrong-password",
                                          "csrf_token": client.csrf_token()}).get_data(as_text=True)
              for _ in range(2)]
    assert "locked until" not in bodies[0]
    assert "locked until" in bodies[1]


def test_instance_path_from_the_environment(build, app_config, tmp_path, monkeypatch):
    instance = tmp_path / "env-instance"
    instance.mkdir()
    (instance / "edlink.toml").write_text("IDLE_TIMEOUT_MINUTES = 12\n", encoding="utf-8")
    monkeypatch.setenv("EDLINK_INSTANCE_PATH", str(instance))
    app = build(without(app_config, "INSTANCE_PATH"))
    assert app.instance_path == str(instance)
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 12


def test_bad_toml_is_refused_naming_the_file(build, app_config, tmp_path):
    instance = tmp_path / "bad"
    instance.mkdir()
    (instance / "edlink.toml").write_text("IDLE_TIMEOUT_MINUTES = = 7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="edlink.toml: not valid TOML"):
        build({**app_config, "INSTANCE_PATH": str(instance)})


def test_environment_variables_are_read_and_override_the_toml(build, app_config, tmp_path, monkeypatch):
    instance = tmp_path / "both"
    instance.mkdir()
    (instance / "edlink.toml").write_text('IDLE_TIMEOUT_MINUTES = 7\nMAIL_FROM = "toml@state.example"\n'
                                          'SMTP_HOST = "smtp.toml.example"\n', encoding="utf-8")
    monkeypatch.setenv("EDLINK_IDLE_TIMEOUT_MINUTES", "11")
    monkeypatch.setenv("EDLINK_MAIL_FROM", "env@state.example")
    monkeypatch.setenv("EDLINK_LOGIN_LOCKOUT_MINUTES", "45")
    monkeypatch.setenv("EDLINK_IDP", "LOCAL")
    app = build({**app_config, "INSTANCE_PATH": str(instance)})
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 11
    assert app.config["PERMANENT_SESSION_LIFETIME"] == _dt.timedelta(minutes=11)
    assert app.config["MAIL_FROM"] == "env@state.example"
    assert app.config["SMTP_HOST"] == "smtp.toml.example"  # only in the file
    assert app.config["LOGIN_LOCKOUT_MINUTES"] == 45
    assert app.config["IDP"] == "local"


def test_the_mapping_given_to_create_app_wins(build, app_config, monkeypatch):
    monkeypatch.setenv("EDLINK_IDLE_TIMEOUT_MINUTES", "11")
    app = build({**app_config, "EDLINK_IDLE_TIMEOUT_MINUTES": 3})
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 3


def test_database_url_from_the_environment(build, app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("EDLINK_DATABASE_URL", "postgres://u@db.example/edlink")
    app = build(without(app_config, "DATABASE_URL"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/edlink"


def test_database_defaults_to_sqlite_in_the_instance_folder(build, app_config, tmp_path):
    instance = tmp_path / "default-db"
    app = build({**without(app_config, "DATABASE_URL"), "INSTANCE_PATH": str(instance)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(instance / "edlink.db")
    assert instance.is_dir()


def test_secret_key_from_environment_signs_sessions(build, app_config, monkeypatch):
    monkeypatch.setenv("EDLINK_SECRET_KEY", "from-the-environment")
    assert build(without(app_config, "SECRET_KEY")).secret_key == "from-the-environment"


# --- the error envelope -----------------------------------------------------------------------

def test_api_404(client):
    error = assert_envelope(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert error["fields"] == {}


def test_api_405_names_the_allowed_methods(client):
    resp = client.get("/api/v1/me/link")
    assert_envelope(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]


def test_api_401_without_credentials(client):
    resp = client.get("/api/v1/me")
    assert_envelope(resp, 401, "unauthenticated")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_422_names_the_bad_fields(demo, client):
    login(client, "newstaff")
    error = assert_envelope(client.post("/api/v1/me/link", json={}), 422, "validation_error")
    assert list(error["fields"]) == ["staff_id"]
    assert "staff_id" in error["message"]
    error = assert_envelope(client.post("/api/v1/me/link", json={"staff_id": 1000000001}),
                            422, "validation_error")
    assert list(error["fields"]) == ["staff_id"]


def test_api_malformed_json_is_a_400_that_says_so(demo, client):
    login(client, "newstaff")
    error = assert_envelope(client.post("/api/v1/me/link", data="{not json",
                                        content_type="application/json"), 400, "bad_request")
    assert "JSON" in error["message"]
    assert error["fields"] == {}


def test_api_domain_error_keeps_its_code(app, client):
    @app.route("/api/v1/test-conflict", methods=["GET"])
    def _conflict():
        raise Conflict("already_done", "That was done already.")

    error = assert_envelope(client.get("/api/v1/test-conflict"), 409, "already_done")
    assert error["message"] == "That was done already."


def _register_boom(app):
    def boom():
        db.session.add(User(issuer="local", subject="boom", username="half-made"))
        db.session.flush()
        raise RuntimeError("kaboom: secret internals /etc/passwd")

    app.add_url_rule("/api/v1/test-boom", "api_boom", boom)
    app.add_url_rule("/test-boom", "page_boom", boom)


def _half_made_exists() -> bool:
    db.session.expire_all()
    return db.session.execute(db.select(User).where(User.username == "half-made")).first() is not None


def test_unexpected_exception_gives_json_500_without_traceback(app, client, caplog, monkeypatch):
    # Alembic's env.py (fileConfig) disables the loggers that existed when the session's
    # migration ran; switch ours back on to see what a server would log.
    monkeypatch.setattr(logging.getLogger("edlink.errors"), "disabled", False)
    _register_boom(app)
    resp = client.get("/api/v1/test-boom")
    error = assert_envelope(resp, 500, "internal_error")
    assert "kaboom" not in resp.get_data(as_text=True)
    assert error["fields"] == {}
    assert not _half_made_exists()  # the request's transaction was rolled back
    assert "kaboom" in caplog.text  # ...and the error was logged for us


def test_unexpected_exception_gives_an_error_page_without_traceback(app, client):
    _register_boom(app)
    resp = client.get("/test-boom")
    assert resp.status_code == 500
    assert resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "kaboom" not in page and "Traceback" not in page and "RuntimeError" not in page
    assert '<a href="/">Back to EdLink home</a>' in page
    assert not _half_made_exists()


def test_pages_get_an_html_404(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "<h1" in page and "Not Found" in page
    assert "Back to EdLink home" in page


def test_pages_get_an_html_405_with_allow(client):
    resp = client.get("/logout")
    assert resp.status_code == 405
    assert resp.mimetype == "text/html"
    assert "POST" in resp.headers["Allow"]


def test_clock_is_reset_between_tests():
    # every fixture that pins the clock lets it go at teardown
    assert abs((clock.now() - _dt.datetime.now(_dt.UTC)).total_seconds()) < 60
