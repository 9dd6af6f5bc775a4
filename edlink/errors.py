"""Domain errors and the one error envelope.

Services raise :class:`DomainError` (or a subclass) with a stable ``code``. Under /api/v1 every
error, ours or Flask's, becomes ``{"error": {"code", "message", "fields"}}``; pages get an error
page (or, for domain errors raised by a form handler, the form again with the message).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, code: str | None = None, message: str = "", *, status: int | None = None,
                 fields: dict[str, Any] | None = None):
        super().__init__(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.message = message
        self.fields = fields or {}

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "validation_error"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 500: "internal_error",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_error(status: int, code: str, message: str, fields: dict[str, Any] | None = None):
    response = jsonify(error_body(code, message, fields))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="edlink"'
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _http_exception(exc: HTTPException):
    status = exc.code or 500
    # the headers HTTP asks for (Allow on a 405, Retry-After, ...), without the content type
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    if wants_json():
        code = getattr(exc, "edlink_code", None) or HTTP_CODES.get(status, "error")
        message = getattr(exc, "edlink_message", None) or exc.description or exc.name
        fields: dict[str, Any] = {}
        problems: list[str] = []
        data = getattr(exc, "data", None)  # webargs / flask-smorest validation details
        if isinstance(data, dict) and data.get("messages"):
            messages = data["messages"]
            for location in ("json", "query", "form", "files", "headers"):
                value = messages.get(location)
                if isinstance(value, dict):
                    fields.update(value)
                elif isinstance(value, list):  # about the body as a whole: "Invalid JSON body."
                    problems.extend(str(v) for v in value)
        if fields:
            code, status = "validation_error", 422
            message = "Some fields are missing or invalid: " + ", ".join(sorted(fields)) + "."
        elif problems:
            message = " ".join(problems)
        response = api_error(status, code, message, fields)
        for key, value in headers:
            if key not in response.headers:
                response.headers.add(key, value)
        return response
    if status in (301, 302, 303, 307, 308):
        return exc
    return render_template("errors/error.html", status=status, title=exc.name,
                           message=exc.description), status, headers


def settle(exc: DomainError) -> None:
    """End the transaction of a refused action: a refusal that is itself an event (its error
    class sets ``commit = True``) is kept; anything else is rolled back, after which the
    refusal's own record (``after_rollback``, e.g. the gate's ``authz.denied``) is committed."""
    from edlink.extensions import db
    if getattr(exc, "commit", False):
        db.session.commit()
        return
    db.session.rollback()
    after = getattr(exc, "after_rollback", None)
    if after is not None:
        after()
        db.session.commit()


def _domain_error(exc: DomainError):
    settle(exc)
    if wants_json():
        return api_error(exc.status, exc.code, exc.message, exc.fields)
    return render_template("errors/error.html", status=exc.status, title="Request refused",
                           message=exc.message, code=exc.code), exc.status


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_exception(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    from edlink.extensions import db
    db.session.rollback()
    if wants_json():
        return api_error(500, "internal_error", "Something went wrong on our side; it has been logged.")
    return render_template("errors/error.html", status=500, title="Something went wrong",
                           message="The error has been logged. Please try again later."), 500


def _csrf_error(exc):
    if wants_json():
        return api_error(400, "csrf_failed", "Missing or stale CSRF token: send the X-CSRFToken "
                         "header from the page, or use Authorization: Bearer.")
    return render_template("errors/error.html", status=400, title="Form expired",
                           message="The form was open too long or came from elsewhere. "
                                   "Go back, reload the page and try again."), 400


def init_app(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(Exception, _unexpected)
