"""Workflows: access requests, routing, approval stages, delegation, deadlines, revocation,
reviews, lifecycle and attestation."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the workflow settings at start-up (a bad time zone or holiday stops the app)."""
    from edlink.calendar import BusinessCalendar, CalendarError
    from edlink.config import ConfigError

    try:
        app.extensions["edlink.calendar"] = BusinessCalendar.build(app.config["TIMEZONE"], app.config["HOLIDAYS"])
    except CalendarError as exc:
        raise ConfigError(str(exc)) from exc
    for key in ("STAGE_DEADLINE_BUSINESS_DAYS", "REQUEST_EXPIRY_BUSINESS_DAYS"):
        try:
            value = int(app.config[key])
        except (TypeError, ValueError):
            value = 0
        if value < 1:
            raise ConfigError(f"EDLINK_{key} must be a whole number of business days, at least 1")
        app.config[key] = value

    _lifecycle_settings(app)

    from edlink import jobs
    from edlink.api.account import add_me_extra
    from edlink.staff import add_change_listener
    from workflows import attestation_jobs, deadlines, expiry, inactivity, lifecycle
    add_me_extra(app, _me_extra)
    add_change_listener(app, lifecycle.on_staff_import)  # HR changes reach access in the import
    jobs.register(app, "requests.deadlines", deadlines.run)
    jobs.register(app, "grants.expire", expiry.run)
    jobs.register(app, "users.inactivity", inactivity.run)
    jobs.register(app, "attestations.lapse", attestation_jobs.run)

    from workflows.integrity import verify_audit
    jobs.register(app, "audit.verify", verify_audit)

    from workflows import reviews, turnaround
    reviews.init_app(app)
    turnaround.init_app(app)  # the turnaround report, in audit's report registry


def _lifecycle_settings(app: Flask) -> None:
    from edlink.config import ConfigError
    for key in ("INACTIVITY_DAYS", "GRANT_EXPIRY_NOTICE_DAYS"):
        try:
            value = int(app.config[key])
        except (TypeError, ValueError):
            value = 0
        if value < 1:
            raise ConfigError(f"EDLINK_{key} must be a whole number of days, at least 1")
        app.config[key] = value
    days = app.config["STATEMENT_REMINDER_DAYS"]
    if isinstance(days, str):
        days = days.replace(",", " ").split()
    try:
        days = sorted({int(d) for d in (days if isinstance(days, list | tuple) else [days])}, reverse=True)
    except (TypeError, ValueError):
        days = [0]
    if any(d < 1 or d >= 365 for d in days):
        raise ConfigError("EDLINK_STATEMENT_REMINDER_DAYS must be whole numbers of days before the "
                          "statement lapses (1 to 364), e.g. [30, 7]")
    app.config["STATEMENT_REMINDER_DAYS"] = days


def _me_extra(user) -> dict:
    """GET /me: the caller's pending requests and confidentiality-statement status."""
    from edlink.extensions import db
    from workflows import attestations
    from workflows.models import AccessRequest
    from workflows.presenters import request_view

    pending = db.session.execute(db.select(AccessRequest).where(
        AccessRequest.requester_id == user.id, AccessRequest.status == "pending")
        .order_by(AccessRequest.submitted_at)).scalars().all()
    from workflows.attestation_jobs import lapses_at
    statement, signed = attestations.current_statement(), attestations.last_signature(user)
    lapses = lapses_at(signed)
    return {"pending_requests": [request_view(r) for r in pending],
            "attestation": {"current_version": statement.version if statement else None,
                            "signed_version": signed.statement_version if signed else None,
                            "signed_at": signed.signed_at.isoformat() if signed else None,
                            "lapses_at": lapses.isoformat() if lapses else None,
                            "current": attestations.is_current(user)}}
