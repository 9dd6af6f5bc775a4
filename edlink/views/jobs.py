"""State administrators: the scheduled jobs, their runs and the scheduler lease."""
from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_login import login_required

from edlink import authz, clock, jobs
from edlink import job_runs as service
from edlink.errors import Forbidden
from edlink.job_models import OUTCOMES
from edlink.views import bp


def is_state_admin() -> bool:
    """Only state administrators hold edlink.catalog.manage (a state-scoped role)."""
    return bool(authz.can("edlink.catalog.manage"))


def _require_state_admin() -> None:
    if not is_state_admin():
        raise Forbidden("forbidden", "The scheduled jobs are for state administrators.")


@bp.route("/admin/jobs", methods=["GET"])
@login_required
def jobs_page():
    _require_state_admin()
    names = jobs.names()
    job = request.args.get("job") or None
    job = job if job in names else None
    outcome = request.args.get("outcome") or None
    outcome = outcome if outcome in OUTCOMES else None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = int(current_app.config["PAGE_SIZE"])
    runs, total = service.list_runs(job, outcome, page, per_page)
    lease, held = service.lease_state()
    return render_template("edlink/jobs.html", lines=service.overview(), runs=runs, total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), names=names, job=job,
                           outcome=outcome, outcomes=OUTCOMES, lease=lease, held=held, now=clock.now(),
                           recent_days=service.RECENT.days)


@bp.route("/admin/jobs/runs/<int:run_id>", methods=["GET"])
@login_required
def job_run_page(run_id: int):
    _require_state_admin()
    return render_template("edlink/job_run.html", run=service.get_run(run_id))


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    add_nav(app, "edlink.jobs_page", "Scheduled jobs", is_state_admin, order=95)
