"""`edlink students import FILE.csv`: the state registry, whole or not at all, with a reason per row."""
from __future__ import annotations

from sqlalchemy import func

from edlink.cli import main
from edlink.extensions import db
from ser_core.models import RegistryStudent
from tests.ser_core.conftest import REGISTRY_CSV, events

HEAD = "state_id,first_name,last_name,middle_name,birth_date,gender\n"


def run(app, tmp_path, text: str):
    path = tmp_path / "students.csv"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(main, ["students", "import", str(path)])


def count() -> int:
    db.session.expire_all()
    return db.session.execute(db.select(func.count()).select_from(RegistryStudent)).scalar_one()


def test_import_creates_then_updates_and_reports_unchanged(app, tmp_path):
    result = run(app, tmp_path, REGISTRY_CSV)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("created 6, updated 0, unchanged 0, rejected 0")
    changed = REGISTRY_CSV.replace("Avery,Pinewood,Jo", "Avery,Pinewood-Hale,Jo")
    result = run(app, tmp_path, changed)
    assert result.output.strip().endswith("created 0, updated 1, unchanged 5, rejected 0")
    assert [e.details["updated"] for e in events("ser.registry.imported")] == [[], ["4000000001"]]


def test_a_bad_row_rejects_the_whole_file_with_a_reason_per_row(app, tmp_path):
    text = HEAD + ("4100000001,Gale,Stone,,2013-04-04,F\n"
                   "41000002,Hollis,Stone,,2013-04-04,F\n"
                   "4100000003,,Stone,,2013-04-31,X\n"
                   "4100000001,Gale,Stone,,2013-04-04,F\n")
    result = run(app, tmp_path, text)
    assert result.exit_code == 1
    assert "line 3: 41000002: malformed state ID: it must be 10 digits" in result.stderr
    assert ("line 4: 4100000003: first_name and last_name are required; birth_date '2013-04-31' is not a date "
            "(YYYY-MM-DD); unknown gender 'X' (M or F)") in result.stderr
    assert "line 5: 4100000001: duplicate state ID in the file (also on line 2)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: The student registry file was not imported: "
                                                             "3 row(s) rejected")
    assert count() == 0


def test_unknown_demographic_values_and_missing_columns(app, tmp_path):
    result = run(app, tmp_path, HEAD.strip() + ",race\n4100000001,Gale,Stone,,2013-04-04,F,Martian\n")
    assert result.exit_code == 1 and "unknown race 'Martian'" in result.stderr
    result = run(app, tmp_path, "state_id,first_name\n4100000001,Gale\n")
    assert result.exit_code == 1
    assert "The header row lacks column(s): last_name, middle_name, birth_date, gender" in result.stderr
    assert count() == 0
