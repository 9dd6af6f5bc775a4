"""``edlink students import FILE.csv``: the state student registry behind SER, whole or not at all
(the CLI may reach ser_core; the rest of edlink never does)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("students")
def students_group():
    """The state student registry (the eScholar unique-ID analogue) behind SER."""


@students_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def students_import(file):
    """Create or update registry students from CSV, whole or not at all.

    Columns: state_id,first_name,last_name,middle_name,birth_date,gender (birth_date ISO, gender
    M or F), optionally suffix,ethnicity,race.
    """
    from edlink.cli import _fail, _read, _report
    from edlink.errors import DomainError
    from edlink.extensions import db
    from ser_core.registry import import_registry
    try:
        result = import_registry(_read(file), actor="system:cli")
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    _report(result)


@click.group("sis-exits")
def sis_exits_group():
    """SIS exit records for SER's SER/SIS Exit Cross Check."""


@sis_exits_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def sis_exits_import(file):
    """Load SIS exit records from CSV, whole or not at all.

    Columns: state_id,lea_code,exit_code,exit_date (exit_date ISO). A record with the same student,
    LEA and date is replaced.
    """
    from edlink.cli import _fail, _read, _report
    from edlink.errors import DomainError
    from edlink.extensions import db
    from ser_core.reports.crosscheck import import_sis_exits
    try:
        result = import_sis_exits(_read(file), actor="system:cli")
        db.session.commit()
    except DomainError as exc:
        raise _fail(exc) from exc
    _report(result)
