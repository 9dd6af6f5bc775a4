"""The ``edlink`` command: Flask's CLI (run, db, shell) plus EdLink's own commands.

Every command exits non-zero with a one-line reason on bad input.
"""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from edlink.csvio import ImportRejected
from edlink.errors import DomainError
from edlink.extensions import db


def _create_app():
    from edlink import create_app
    from edlink.config import ConfigError
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _fail(exc: DomainError) -> click.ClickException:
    db.session.rollback()
    if isinstance(exc, ImportRejected):
        for row in exc.errors:
            click.echo(f"  line {row.line}: {row.key + ': ' if row.key else ''}{row.reason}", err=True)
    return click.ClickException(f"{exc.message} [{exc.code}]")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from exc


def _report(result) -> None:
    s = result.summary()
    click.echo(f"created {s['created']}, updated {s['updated']}, unchanged {s['unchanged']}, rejected 0")


class EdLinkGroup(FlaskGroup):
    """Flask's CLI group, turning a database that is missing or not migrated into a one-line reason."""

    def invoke(self, ctx):
        import sqlite3

        import psycopg
        from sqlalchemy.exc import OperationalError, ProgrammingError
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError, sqlite3.OperationalError, psycopg.OperationalError,
                psycopg.ProgrammingError) as exc:
            orig = getattr(exc, "orig", None) or exc
            reason = (str(orig).strip().splitlines() or ["unknown error"])[0]
            raise click.ClickException(f"the database is not ready ({reason}); check EDLINK_DATABASE_URL "
                                       "and run `edlink db upgrade`") from exc


@click.group(cls=EdLinkGroup, create_app=_create_app, add_default_commands=True,
             load_dotenv=False, set_debug_flag=False)
def main():
    """EdLink: access provisioning and the embedded SER core."""


from audit.cli import audit_group  # noqa: E402
from edlink.scheduler_cli import scheduler_command, web_run_command  # noqa: E402

main.add_command(audit_group)
main.add_command(scheduler_command)
main.add_command(web_run_command())  # Flask's `run`, plus --with-scheduler

from edlink.students_cli import sis_exits_group, students_group  # noqa: E402

main.add_command(students_group)
main.add_command(sis_exits_group)


@main.group()
def users():
    """Local identity provider users."""


@users.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--email", default=None)
@click.option("--name", default=None, help="Display name.")
@with_appcontext
def users_create(username, password_stdin, email, name):
    """Create a local user (prompts for the password unless --password-stdin)."""
    from edlink.users import create_local_user
    if current_app.config["IDP"] != "local":
        raise click.ClickException("users are created at the identity provider when EDLINK_IDP is not local")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_local_user(username, password, email=email, name=name)
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"created user {user.username}")


@main.group()
def tokens():
    """Personal API tokens."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="command line", help="What the token is for.")
@click.option("--expires-days", default=90, type=int, show_default=True)
@with_appcontext
def tokens_create(username, name, expires_days):
    """Create a token; it is printed once, alone on the last line."""
    from edlink.tokens import create_token
    from edlink.users import get_user
    try:
        plain, row = create_token(get_user(username), name, expires_days, actor="system:cli")
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"token {row.name!r} for {username}, expires {row.expires_at:%Y-%m-%d}:")
    click.echo(plain)


@main.group()
def grants():
    """Grants of roles."""


@grants.command("bootstrap-admin")
@click.argument("username")
@with_appcontext
def grants_bootstrap_admin(username):
    """Make USERNAME a state administrator (the first one comes from here)."""
    from edlink.orgs import state_org
    from edlink.users import get_user
    from roles.grants import bootstrap_admin
    state = state_org()
    if state is None:
        raise click.ClickException("there is no state org yet: run 'edlink orgs import FILE.csv' first")
    try:
        bootstrap_admin(get_user(username), state)
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{username} is a state administrator at {state.code}")


@main.group()
def catalog():
    """The role catalog (roles/catalog.toml)."""


@catalog.command("sync")
@click.option("--file", "path", type=click.Path(dir_okay=False),
              help="a catalog file to apply instead of the packaged roles/catalog.toml")
@click.option("--check", is_flag=True, help="validate and show what would change, change nothing")
@with_appcontext
def catalog_sync(path, check):
    """Validate the catalog and apply it: each change is audited; removed roles are retired."""
    from roles.sync import sync
    text = _read(path).decode("utf-8") if path else None
    try:
        result = sync(text, actor="system:cli")
    except DomainError as exc:
        raise _fail(exc) from exc
    for kind, code, change in result.changes:
        click.echo(f"  {change} {kind} {code}")
    if check:
        db.session.rollback()
        click.echo(f"check only, nothing applied: {result.summary()}")
        return
    db.session.commit()
    click.echo(result.summary())


@main.group()
def orgs():
    """The organisation tree."""


@orgs.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def orgs_import(file):
    """Create or update orgs from CSV (code,name,kind,parent_code,served_by_code)."""
    from edlink.orgs import import_orgs
    try:
        result = import_orgs(_read(file), actor="system:cli")
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    _report(result)


@main.group()
def staff():
    """The staff directory."""


@staff.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def staff_import(file):
    """Apply a staff CSV whole or not at all."""
    from edlink.staff import Actor, import_staff
    try:
        result = import_staff(_read(file), Actor("system:cli", "cli"))
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    access = result.details.get("access")
    if access:  # what the HR lifecycle did in the same transaction
        click.echo("access: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(access.items())))
    _report(result)


@main.group()
def tas():
    """Legacy TAS grants, carried over at go-live."""


@tas.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and print the report; change nothing.")
@with_appcontext
def tas_import(file, dry_run):
    """Carry grants over from a TAS "User Report by Application" CSV, whole or not at all.

    Columns: username,staff_id,sponsor_code,application,tas_role,granted_on,expires_on.
    Prints one line per row (imported, skipped or rejected, and why) and a summary.
    """
    from roles.tas import TasRejected, import_tas
    data = _read(file)
    try:
        result = import_tas(data, dry_run=dry_run, actor="system:cli")
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except TasRejected as exc:
        db.session.rollback()
        for line in exc.result.lines():
            click.echo(line)
        click.echo(exc.result.summary_line())
        raise click.ClickException(f"{exc.message} [{exc.code}]") from exc
    except DomainError as exc:
        raise _fail(exc) from exc
    for line in result.lines():
        click.echo(line)
    click.echo(result.summary_line())


@main.group()
def jobs():
    """Scheduled jobs (the scheduler runs them periodically; these run one once)."""


@jobs.command("run")
@click.argument("name")
@click.option("--now", "now_text", default=None, metavar="ISO",
              help="Run as of this instant (ISO 8601, e.g. 2026-03-01T07:00:00Z).")
@with_appcontext
def jobs_run(name, now_text):
    """Run the scheduled job NAME once (e.g. notifications.dispatch)."""
    from edlink import clock
    from edlink import jobs as registry
    now = None
    if now_text is not None:
        try:
            now = clock.parse_iso(now_text)
        except ValueError as exc:
            raise click.ClickException(f"--now must be an ISO 8601 instant, not {now_text!r}") from exc
    try:
        result = registry.run(name, now)
    except DomainError as exc:
        raise _fail(exc) from exc
    if isinstance(result, dict):
        result = ", ".join(f"{key} {value}" for key, value in result.items())
    click.echo(f"{name}: {result if result is not None else 'done'}")


@jobs.command("list")
@with_appcontext
def jobs_list():
    """The names of the scheduled jobs."""
    from edlink import jobs as registry
    for name in registry.names():
        click.echo(name)


@main.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load the fictional demo state (idempotent; refused in production)."""
    from edlink.demo import DEMO_LOGINS, SER_DEMO_LOGINS, seed
    if current_app.config["PRODUCTION"]:
        raise click.ClickException("seed-demo is refused under a production configuration")
    try:
        summary = seed(full=True)
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(summary)
    click.echo("Demo logins (username / password — who):")
    for username, password, who in DEMO_LOGINS + SER_DEMO_LOGINS:
        click.echo(f"  {username:<14} {password:<20} {who}")
