"""The JSON API under /api/v1 (flask-smorest; OpenAPI at /api/v1/openapi.json)."""
from __future__ import annotations

import functools

from flask import Flask
from flask_login import current_user

from edlink.extensions import api, login_manager


def login_required(view):
    """Like Flask-Login's, answering 401 JSON (invalid_token / unauthenticated)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)
    return wrapper


def paging(max_per_page: int = 200) -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (default EDLINK_PAGE_SIZE, at most ``max_per_page``)."""
    from flask import current_app, request
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = request.args.get("per_page", int(current_app.config["PAGE_SIZE"]), type=int) or 1
    return page, min(max(per_page, 1), max_per_page)


def me():
    return current_user._get_current_object()


def register_api(app: Flask) -> None:
    from audit import api as audit_api
    from audit.reports import api as reports_api
    from edlink.api import account, directory
    from notifications import api as notifications_api
    from roles import api as roles_api
    from workflows import api as workflows_api

    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blp in (account.blp, directory.blp, audit_api.blp, reports_api.blp, notifications_api.blp, roles_api.blp,
                workflows_api.blp):
        api.register_blueprint(blp)
    from workflows.reviews import api as reviews_api
    api.register_blueprint(reviews_api.blp)
    from ser_core import api as ser_api
    from ser_core import api_records as ser_records_api
    api.register_blueprint(ser_api.blp)
    api.register_blueprint(ser_records_api.blp)
    from ser_core import api_ieps as ser_iep_api
    api.register_blueprint(ser_iep_api.blp)
    from ser_core import api_services as ser_service_api
    api.register_blueprint(ser_service_api.blp)

