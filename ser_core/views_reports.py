"""The SER Reports tab: the SER report kinds with their forms (run as CSV at once, or as Excel
into My Reports, where they stay 14 days), and the SIS exit upload the cross-check compares."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import login_required

from audit.reports import registry
from audit.reports.run import Direct, start
from edlink.csvio import ImportRejected
from edlink.errors import DomainError
from roles import gate
from ser_core.reports.common import PERMISSION
from ser_core.reports.crosscheck import import_sis_exits, require_import
from ser_core.views import bp, failed, me

FORMATS = (("csv", "CSV"), ("xlsx", "Excel (My Reports)"))


def _kinds():
    return [k for k in registry.kinds() if k.code.startswith("ser-")]


@bp.route("/reports")
@login_required
def reports():
    gate.require(PERMISSION, None)
    return render_template("ser/reports.html", kinds=_kinds(), formats=FORMATS, values=request.args,
                           may_load=bool(gate.orgs_with("eser.student.write")))


@bp.route("/reports/<code>/run", methods=["POST"])
@login_required
def run_report(code: str):
    gate.require(PERMISSION, None)
    kind = registry.get(code)
    fmt = request.form.get("format", "csv")
    try:
        outcome = start(me(), kind.code, request.form, fmt, for_page=True)
    except DomainError as exc:
        if exc.status == 403:
            raise
        failed(exc)
        flash(f"{kind.title}: {exc.message}", "error")
        return redirect(url_for("ser.reports"))
    if isinstance(outcome, Direct):
        return Response(outcome.body, mimetype=outcome.mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{outcome.filename}"',
                                 "Cache-Control": "no-store"})
    flash(f"{kind.title} is being prepared: it will be in My Reports for download.", "success")
    return redirect(url_for("reports.mine", highlight=outcome.id))


@bp.route("/reports/sis-exits", methods=["POST"])
@login_required
def upload_sis_exits():
    require_import(me())
    upload = request.files.get("file")
    try:
        result = import_sis_exits(upload.read() if upload else b"", user=me())
    except ImportRejected as exc:
        failed(exc)
        problems = "; ".join(f"line {e.line}: {e.reason}" for e in exc.errors)
        flash(f"{exc.message} {problems}", "error")
        return redirect(url_for("ser.reports"))
    except DomainError as exc:
        failed(exc)
        flash(exc.message, "error")
        return redirect(url_for("ser.reports"))
    summary = result.summary()
    flash(f"SIS exits loaded: {summary['created']} new, {summary['updated']} updated, {summary['unchanged']} "
          "unchanged.", "success")
    return redirect(url_for("ser.reports"))
