"""Fixtures: an app and a clean database per test, on SQLite or PostgreSQL.

``EDLINK_TEST_DATABASE`` picks the database for the whole run: ``sqlite`` (default) or
``postgresql`` (at ``EDLINK_TEST_PG_URL``). ``make test`` runs the suite once on each.
The schema is built once per run by the real migrations; each test then starts empty
(SQLite: a fresh copy of the migrated file; PostgreSQL: every table truncated).
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from edlink import clock, create_app
from edlink.extensions import db

DB_KIND = os.environ.get("EDLINK_TEST_DATABASE", "sqlite").lower()
PG_URL = os.environ.get("EDLINK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "test-secret-key"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def pytest_report_header(config):
    return f"EdLink test database: {DB_KIND}"


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _migrate(url: str, instance: str) -> None:
    from flask_migrate import upgrade
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET,
                      "INSTANCE_PATH": instance})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2 at its production cost makes every demo seed slow; the tests check behaviour,
    not hash strength, so they hash with the smallest parameters (still real argon2id)."""
    from argon2 import PasswordHasher

    import edlink.users
    saved = edlink.users._hasher
    edlink.users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    edlink.users._hasher = saved


@pytest.fixture(scope="session")
def database(tmp_path_factory, worker_id):
    """The run's migrated database: a template file (SQLite) or a database of its own (PostgreSQL)."""
    instance = str(tmp_path_factory.mktemp("instance"))
    if DB_KIND == "sqlite":
        template = os.path.join(instance, "template.db")
        _migrate("sqlite:///" + template, instance)
        yield {"kind": "sqlite", "template": template, "instance": instance}
        return
    if DB_KIND not in ("postgresql", "postgres"):
        raise pytest.UsageError(f"EDLINK_TEST_DATABASE must be sqlite or postgresql, not {DB_KIND}")
    name = f"edlink_test_{worker_id}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_pg(PG_URL)).set(database=name).render_as_string(hide_password=False)
    _migrate(url, instance)
    yield {"kind": "postgresql", "url": url, "instance": instance}
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _clean_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(database, tmp_path):
    if database["kind"] == "sqlite":
        path = str(tmp_path / "edlink.db")
        shutil.copyfile(database["template"], path)
        return "sqlite:///" + path
    _clean_postgres(database["url"])
    return database["url"]


@pytest.fixture
def app_config(db_url, tmp_path):
    return {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": SECRET,
            "INSTANCE_PATH": str(tmp_path / "instance")}


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF header on unsafe session requests, like a page would."""

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if (method in UNSAFE and kwargs.pop("csrf", True) and "Authorization" not in headers
                and "X-CSRFToken" not in headers):
            headers["X-CSRFToken"] = self.csrf_token()
        # Each request gets its own app context (fresh g, its own database session), as in
        # production, even while the test holds one open; the test's session then sees the
        # request's committed changes.
        with self.application.app_context():
            response = super().open(*args, headers=headers, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token") or uuid.uuid4().hex
            sess["csrf_token"] = raw
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    application.test_client_class = CsrfClient
    ctx = application.app_context()
    ctx.push()
    yield application
    db.session.remove()
    db.engine.dispose()
    ctx.pop()
    clock.set_now(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """The demo state (orgs, staff, persona users and their grants), committed."""
    from edlink.demo import seed
    seed()
    db.session.commit()
    return app


def login(client, username: str, password: str = "demo-pass-2026"):
    """Sign in through the real sign-in form."""
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": client.csrf_token()})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp


@pytest.fixture
def make_app(app_config):
    """Build an app on the test database with settings of its own: ``make_app(LOGIN_MAX_FAILURES=3)``.

    Its app context is pushed (on top of any other) and popped at teardown; its test client is
    the CSRF-aware one.
    """
    made = []

    def make(**overrides):
        application = create_app({**app_config, **overrides})
        application.test_client_class = CsrfClient
        ctx = application.app_context()
        ctx.push()
        made.append(ctx)
        return application

    yield make
    for ctx in reversed(made):
        db.session.remove()
        db.engine.dispose()
        ctx.pop()
    clock.set_now(None)
