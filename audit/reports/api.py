"""Auditor reports under /api/v1/reports: each report by its name, and My Reports (runs).

``GET /reports/<report>?format=json|csv|xlsx|pdf|docx&...`` — JSON and CSV answer at once (CSV
streamed, for any size; JSON up to EDLINK_REPORT_BACKGROUND_ROWS rows); Excel, PDF and Word,
larger JSON, or ``background=1``, answer 202 with the queued run (poll ``/reports/runs/{id}``,
then download it). ``/reports/access-at`` takes ``permission``, ``org``, ``at``, or ``user`` and
``at`` for what a person could do.
"""
from __future__ import annotations

from flask import Response, request, stream_with_context, url_for
from flask_smorest import Blueprint

from audit.reports import myreports
from audit.reports.run import Direct, start
from edlink.api import login_required, me

blp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports", description="Auditor reports and My Reports")


def _run_json(run) -> dict:
    out = myreports.view(run)
    out["status_url"] = url_for("reports_api.run_status", run_id=run.id)
    out["download_url"] = url_for("reports_api.run_download", run_id=run.id) if run.status == "done" else None
    return out


def answer(outcome):
    if isinstance(outcome, Direct):
        if isinstance(outcome.body, dict):
            return outcome.body
        return Response(stream_with_context(outcome.body), mimetype=outcome.mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{outcome.filename}"',
                                 "Cache-Control": "no-store"})
    body = {"run": _run_json(outcome), "message": "The report runs in the background; it will be in My Reports."}
    return body, 202, {"Location": url_for("reports_api.run_status", run_id=outcome.id)}


def _background() -> bool:
    return request.args.get("background", "").strip().lower() in ("1", "true", "yes")


@blp.route("/runs", methods=["GET"])
@login_required
def runs():
    """My Reports: your report runs kept in the last EDLINK_REPORT_RETENTION_DAYS days, newest first
    (``all=1``: a state administrator sees everyone's)."""
    everyone = request.args.get("all", "").strip().lower() in ("1", "true", "yes")
    return {"runs": [_run_json(r) for r in myreports.visible_runs(me(), everyone)]}


@blp.route("/runs/<int:run_id>", methods=["GET"])
@login_required
def run_status(run_id: int):
    """A run's status and progress (``percent``), for its requester or a state administrator."""
    return _run_json(myreports.get_run(me(), run_id))


@blp.route("/runs/<int:run_id>/download", methods=["GET"])
@login_required
def run_download(run_id: int):
    """The finished file (409 report_not_ready before it is done)."""
    name, mimetype, body = myreports.download(me(), run_id)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Cache-Control": "no-store"})


@blp.route("/access-at", methods=["GET"])
@login_required
def access_at():
    """Who could use ``permission`` at ``org`` at instant ``at`` — or, with ``user`` (username or
    employee number) and ``at``, what that person could do then. Rebuilt from history."""
    code = "access-at-person" if request.args.get("user") and not request.args.get("permission") else "access-at"
    return answer(start(me(), code, request.args, request.args.get("format"), background=_background()))


@blp.route("/<report>", methods=["GET"])
@login_required
def report(report: str):
    """Any registered report: security-audit (org, application, role, status), user-by-application
    (application, org, role), turnaround (org, since, until), and those other packages register."""
    return answer(start(me(), report, request.args, request.args.get("format"), background=_background()))
