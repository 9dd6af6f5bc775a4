"""bench/reports.py at a tiny scale, so it cannot rot: each measurement runs and counts its rows."""
from bench import statewide
from bench.reports import measure
from edlink.extensions import db
from roles.models import Grant


def test_reports_bench_measures_each_report(app):
    statewide.generate(app, scale=0.002, seed=7)
    app.config["REPORT_WORKER"] = False
    figures = measure(app, repeat=1)
    listed = db.session.execute(db.select(db.func.count()).select_from(Grant)
                                .where(Grant.status != "revoked")).scalar_one()
    assert figures["csv"][1] == figures["xlsx"][1] == listed
    assert set(figures) == {"csv", "xlsx", "access-at"} and all(seconds > 0 for seconds, _ in figures.values())
