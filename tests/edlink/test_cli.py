"""The ``edlink`` command: users, grants, orgs import, seed-demo, db upgrade.

Every command exits non-zero with a one-line reason on bad input.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import func

from audit.models import AuditEvent
from edlink.cli import main
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.users import find_local_user
from roles.models import Grant
from tests.conftest import login

EDLINK = os.path.join(os.path.dirname(sys.executable), "edlink")
ORGS_CSV = "code,name,kind,parent_code,served_by_code\nST,Test State,state,,\n201,Test LEA,lea,ST,\n"


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(main, list(args), input=input)


def one_line_error(result, *fragments: str) -> str:
    """The command failed and said why on one line (its last line on stderr)."""
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert lines, result.output
    reason = lines[-1]
    assert reason.startswith("Error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in reason, reason
    return reason


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(db.select(func.count()).select_from(model)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)).scalars())


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDLINK_", "FLASK_"))}
    env.update(extra)
    return env


# --- users -------------------------------------------------------------------------------------

def test_users_create_with_password_from_stdin(app, client):
    result = run(app, "users", "create", "bob", "--password-stdin", "--email", "bob@example.test",
                 "--name", "Bob Example", input="s3cret-pass-1\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created user bob"
    assert "s3cret" not in result.output
    user = find_local_user("bob")
    assert (user.email, user.display_name) == ("bob@example.test", "Bob Example")
    assert "s3cret-pass-1" not in user.credential.password_hash
    assert [(e.actor, e.target_id) for e in events("user.created")] == [("system:cli", str(user.id))]
    login(client, "bob", "s3cret-pass-1")  # the password is the one given
    assert client.get("/api/v1/me").get_json()["username"] == "bob"


def test_users_create_prompts_for_the_password(app):
    result = run(app, "users", "create", "carol", input="long-password-1\nlong-password-1\n")
    assert result.exit_code == 0, result.output
    assert "long-password-1" not in result.output  # hidden input
    assert find_local_user("carol") is not None


def test_users_create_duplicate_username_fails_with_one_line(app):
    assert run(app, "users", "create", "bob", "--password-stdin", input="s3cret-pass-1\n").exit_code == 0
    result = run(app, "users", "create", "BOB", "--password-stdin", input="other-pass-22\n")
    one_line_error(result, "already taken", "username_taken")
    assert count(User) == 1


@pytest.mark.parametrize("username, password, reason", [
    ("dave", "short", "weak_password"),
    ("dave", "", "weak_password"),
    ("has space", "s3cret-pass-1", "invalid_username"),
])
def test_users_create_refuses_bad_input(app, username, password, reason):
    result = run(app, "users", "create", username, "--password-stdin", input=password + "\n")
    one_line_error(result, reason)
    assert count(User) == 0
    assert events("user.created") == []


# --- grants ------------------------------------------------------------------------------------

def test_grants_bootstrap_admin(demo, client):
    result = run(demo, "grants", "bootstrap-admin", "newstaff")
    assert result.exit_code == 0, result.output
    assert "newstaff is a state administrator at DS" in result.stdout
    user = find_local_user("newstaff")
    held = db.session.execute(db.select(Grant).where(Grant.user_id == user.id)).scalars().all()
    assert [(g.role_code, g.org.code, g.status, g.source) for g in held] == [
        ("edlink.state_admin", "DS", "active", "bootstrap")]
    created = [e for e in events("grant.created") if e.details["user"] == "newstaff"]
    assert [(e.actor, e.org_code) for e in created] == [("system:cli", "DS")]
    login(client, "newstaff")
    assert [g["role"] for g in client.get("/api/v1/me").get_json()["grants"]] == ["edlink.state_admin"]


def test_grants_bootstrap_admin_twice_is_refused(demo):
    assert run(demo, "grants", "bootstrap-admin", "newstaff").exit_code == 0
    grants_before = count(Grant)
    one_line_error(run(demo, "grants", "bootstrap-admin", "newstaff"), "already_granted")
    assert count(Grant) == grants_before


def test_grants_bootstrap_admin_unknown_user(demo):
    grants_before = count(Grant)
    one_line_error(run(demo, "grants", "bootstrap-admin", "nobody"), "unknown_user")
    assert count(Grant) == grants_before


def test_grants_bootstrap_admin_needs_the_state_org(app):
    assert run(app, "users", "create", "erin", "--password-stdin", input="s3cret-pass-1\n").exit_code == 0
    one_line_error(run(app, "grants", "bootstrap-admin", "erin"), "no state org", "orgs import")
    assert count(Grant) == 0


# --- orgs import -------------------------------------------------------------------------------

def test_orgs_import_good_file(app, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(ORGS_CSV, encoding="utf-8")
    result = run(app, "orgs", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created 2, updated 0, unchanged 0, rejected 0"
    assert count(Org) == 2
    again = run(app, "orgs", "import", str(path))
    assert again.stdout.strip() == "created 0, updated 0, unchanged 2, rejected 0"


def test_orgs_import_bad_row_changes_nothing_and_names_the_line(app, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(ORGS_CSV + "201001,Test School,castle,201,\n", encoding="utf-8")
    result = run(app, "orgs", "import", str(path))
    one_line_error(result, "1 row(s) rejected", "line 4", "import_rejected")
    assert "line 4: 201001: unknown kind 'castle'" in result.stderr
    assert result.stdout == ""
    assert count(Org) == 0


@pytest.mark.parametrize("content, reason", [
    (None, "cannot read"),
    (b"", "bad_file"),
    (b"code,name\nST,Test State\n", "bad_header"),
    (b"code,name,kind,parent_code,served_by_code\nST,\xff\xfe,state,,\n", "bad_file"),
])
def test_orgs_import_bad_file(app, tmp_path, content, reason):
    path = tmp_path / "orgs.csv"
    if content is not None:
        path.write_bytes(content)
    one_line_error(run(app, "orgs", "import", str(path)), reason)
    assert count(Org) == 0


# --- seed-demo ---------------------------------------------------------------------------------

def test_seed_demo_is_idempotent(app):
    first = run(app, "seed-demo")
    assert first.exit_code == 0, first.output
    assert "users created 13" in first.stdout and "SER: registry" in first.stdout  # 7 core, 6 SER personas
    assert "students added 6" in first.stdout and "SER IEPs: IEPs for Avery" in first.stdout
    assert "serwriter" in first.stdout
    assert "newstaff" in first.stdout and "demo-pass-2026" in first.stdout
    counts = {m.__name__: count(m) for m in (Org, StaffRecord, User, Link, Grant)}
    assert counts["User"] == 13 and counts["Link"] == 12 and counts["Org"] >= 6

    second = run(app, "seed-demo")
    assert second.exit_code == 0, second.output
    assert "users created 0, links made 0, grants made 0" in second.stdout
    assert {m.__name__: count(m) for m in (Org, StaffRecord, User, Link, Grant)} == counts


def test_seed_demo_is_refused_in_production(make_app):
    app = make_app(ENV="production", SECRET_KEY="a-production-secret-0123456789",
                   AUDIT_KEY="a-production-audit-key-0123456789")
    one_line_error(run(app, "seed-demo"), "refused", "production")
    assert count(User) == 0 and count(Org) == 0


# --- the installed console script --------------------------------------------------------------

def test_db_upgrade_builds_an_empty_sqlite_database_from_any_directory(tmp_path):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    db_file = tmp_path / "fresh" / "edlink.db"
    db_file.parent.mkdir()
    env = clean_env(EDLINK_DATABASE_URL="sqlite:///" + str(db_file),
                    EDLINK_INSTANCE_PATH=str(tmp_path / "instance"))
    done = subprocess.run([EDLINK, "db", "upgrade"], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"user_account", "local_credential", "api_token", "staff_record", "staff_link", "org",
            "audit_event", "alembic_version"} <= tables
    assert len(version) == 1

    # the schema is usable: a user can be created with the same command line
    done = subprocess.run([EDLINK, "users", "create", "frank", "--password-stdin"], cwd=workdir,
                          env=env, input="s3cret-pass-1\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "created user frank"
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        assert conn.execute("SELECT username FROM user_account").fetchall() == [("frank",)]


def test_console_script_refuses_production_with_default_keys(tmp_path):
    env = clean_env(EDLINK_ENV="production",
                    EDLINK_DATABASE_URL="sqlite:///" + str(tmp_path / "x.db"),
                    EDLINK_INSTANCE_PATH=str(tmp_path / "instance"))
    done = subprocess.run([EDLINK, "seed-demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert lines and "EDLINK_SECRET_KEY" in lines[-1], done.stderr


@pytest.mark.parametrize("args", [["audit", "verify"], ["users", "create", "someone", "--password-stdin"]])
def test_commands_on_an_unmigrated_database_say_so_in_one_line(tmp_path, args):
    proc = subprocess.run([EDLINK, *args], input="a-long-enough-password\n", capture_output=True, text=True,
                          cwd=tmp_path, env=clean_env(EDLINK_INSTANCE_PATH=str(tmp_path)), timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: the database is not ready")
