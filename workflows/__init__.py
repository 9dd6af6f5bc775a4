"""Workflows: access requests, routing, approval stages, delegation, deadlines, revocation,
reviews, lifecycle and attestation."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the workflow settings at start-up (a bad time zone or holiday stops the app)."""
    from edlink.config import ConfigError
    from workflows.calendar import BusinessCalendar, CalendarError

    try:
        app.extensions["workflows.calendar"] = BusinessCalendar.build(app.config["TIMEZONE"], app.config["HOLIDAYS"])
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

    from edlink import jobs
    from edlink.api.account import add_me_extra
    from workflows import deadlines
    add_me_extra(app, _me_extra)
    jobs.register(app, "requests.deadlines", deadlines.run)
    jobs.register(app, "grants.expire", _expire_grants)

    from workflows import reviews
    reviews.init_app(app)


def _expire_grants() -> dict:
    """The ``grants.expire`` job: grants past their end become expired (each audited)."""
    from roles.grants import expire_due
    return {"expired": len(expire_due())}


def _me_extra(user) -> dict:
    """GET /me: the caller's pending requests and confidentiality-statement status."""
    from edlink.extensions import db
    from workflows import attestations
    from workflows.models import AccessRequest
    from workflows.presenters import request_view

    pending = db.session.execute(db.select(AccessRequest).where(
        AccessRequest.requester_id == user.id, AccessRequest.status == "pending")
        .order_by(AccessRequest.submitted_at)).scalars().all()
    statement, signed = attestations.current_statement(), attestations.last_signature(user)
    return {"pending_requests": [request_view(r) for r in pending],
            "attestation": {"current_version": statement.version if statement else None,
                            "signed_version": signed.statement_version if signed else None,
                            "signed_at": signed.signed_at.isoformat() if signed else None,
                            "current": attestations.is_current(user)}}
