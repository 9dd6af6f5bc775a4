"""Report pages: /reports (a form per report, results in a paged table, downloads) and
/reports/mine (My Reports, with progress bars). The rules live in audit.reports.run / myreports."""
from __future__ import annotations

import math

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from audit.reports import myreports, registry
from audit.reports.formats import text
from audit.reports.run import Direct, page, start, threshold
from audit.reports.scope import may_report
from edlink.errors import DomainError, Forbidden

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="../templates")
DOWNLOADS = (("csv", "CSV"), ("xlsx", "Excel"), ("pdf", "PDF"), ("docx", "Word"), ("json", "JSON"))


def _me():
    return current_user._get_current_object()


def _may_report() -> None:
    if not may_report(_me()):
        raise Forbidden("forbidden", "Reports are for security coordinators, auditors and state administrators.")


def _params(kind) -> dict[str, str]:
    return {f.name: request.values.get(f.name, "").strip() for f in kind.fields}


@bp.route("/")
@login_required
def index():
    _may_report()
    return render_template("reports/index.html", kinds=registry.kinds(), values={}, errors={})


@bp.route("/<code>")
@login_required
def show(code: str):
    """One report's form and, once asked (``run=1``), its rows a page at a time."""
    _may_report()
    kind = registry.get(code)
    values = _params(kind)
    if not request.args.get("run"):
        return render_template("reports/show.html", kind=kind, values=values, errors={}, rows=None)
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = int(current_app.config["PAGE_SIZE"])
    try:
        kind, rows, meta = page(_me(), code, request.args, page_no, per_page)
    except DomainError as exc:
        if exc.status == 403:
            raise
        return render_template("reports/show.html", kind=kind, values=values, errors=exc.fields or {},
                               error=exc.message, rows=None), exc.status
    return render_template("reports/show.html", kind=kind, values=values, errors={}, rows=rows, meta=meta,
                           text=text, page=page_no, pages=max(math.ceil(meta.rows / per_page), 1),
                           downloads=DOWNLOADS, threshold=threshold())


@bp.route("/<code>/run", methods=["POST"])
@login_required
def run(code: str):
    """A download: CSV and JSON at once below the threshold, the rest into My Reports."""
    kind = registry.get(code)
    fmt = request.form.get("format", "csv")
    try:
        outcome = start(_me(), code, request.form, fmt, for_page=True)
    except DomainError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
        return redirect(url_for("reports.show", code=code, **_params(kind)))
    if isinstance(outcome, Direct):
        body = outcome.body
        if isinstance(body, dict):
            from flask import json
            body = json.dumps(body)
        return Response(body, mimetype=outcome.mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{outcome.filename}"',
                                 "Cache-Control": "no-store"})
    flash(f"{kind.title} ({dict(DOWNLOADS).get(fmt, fmt)}, {outcome.total} rows) is being prepared: it will be ready "
          "for download here.", "success")
    return redirect(url_for("reports.mine", highlight=outcome.id))


@bp.route("/mine")
@login_required
def mine():
    everyone = request.args.get("all") == "1" and myreports.is_state_admin(_me())
    per_page = int(current_app.config["PAGE_SIZE"])
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    total = myreports.count_runs(_me(), everyone)
    runs = myreports.visible_runs(_me(), everyone, limit=per_page, offset=(page_no - 1) * per_page)
    return render_template("reports/mine.html", runs=runs, labels=dict(DOWNLOADS), everyone=everyone,
                           may_see_all=myreports.is_state_admin(_me()),
                           highlight=request.args.get("highlight", type=int),
                           retention=current_app.config["REPORT_RETENTION_DAYS"], page=page_no,
                           pages=max(math.ceil(total / per_page), 1))


@bp.route("/runs/<int:run_id>/download")
@login_required
def download(run_id: int):
    name, mimetype, body = myreports.download(_me(), run_id)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    app.register_blueprint(bp)
    add_nav(app, "reports.index", "Reports", lambda: may_report(_me()), order=85)
    add_nav(app, "reports.mine", "My Reports", lambda: may_report(_me()), order=86)
