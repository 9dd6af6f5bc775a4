"""Requests, decisions, delegations and attestations under /api/v1."""
from __future__ import annotations

import datetime as _dt

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from edlink import clock
from edlink.api import login_required, me, paging
from edlink.errors import Invalid
from edlink.orgs import get_org
from roles.catalog import load
from workflows import attestations, decisions, delegation, queries, routing
from workflows.presenters import request_view
from workflows.requests import cancel, submit

blp = Blueprint("workflows_api", __name__, url_prefix="/api/v1", description="Access requests")


class RequestIn(Schema):
    role = fields.String(required=True, metadata={"description": "role code, e.g. eser.reader"})
    org = fields.String(required=True, metadata={"description": "org code"})
    justification = fields.String(required=True, validate=validate.Length(max=4000))
    ends_at = fields.String(load_default=None, metadata={"description": "optional end (ISO date or time)"})


class ApproveIn(Schema):
    comment = fields.String(load_default=None, validate=validate.Length(max=4000))


class DenyIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=4000))


class DelegationIn(Schema):
    delegate = fields.String(required=True, metadata={"description": "the delegate's username"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class AttestationIn(Schema):
    statement_version = fields.String(required=True)


def parse_end(value: str | None) -> _dt.datetime | None:
    """An end date (the end of that day in the state's time zone) or an ISO time."""
    if not value:
        return None
    try:
        if len(value) == 10:
            from edlink.calendar import calendar
            return calendar().end_of(_dt.date.fromisoformat(value))
        return clock.parse_iso(value)
    except ValueError:
        raise Invalid("bad_end_date", "ends_at must be a date (YYYY-MM-DD) or an ISO 8601 time.",
                      fields={"ends_at": ["not a date"]}) from None


@blp.route("/requests", methods=["POST"])
@login_required
@blp.arguments(RequestIn)
def post_request(body):
    """Request a role for yourself; answers the request with its routed stages (201)."""
    made = submit(me(), body["role"], get_org(body["org"]), body["justification"], parse_end(body.get("ends_at")))
    return request_view(made), 201


@blp.route("/requests/path", methods=["GET"])
@login_required
def get_path():
    """The approval path a request for ``role`` at ``org`` would take if submitted now."""
    role = load().role(request.args.get("role", ""))
    org = get_org(request.args.get("org", ""))
    stages = routing.plan(role, org, me())
    return {"role": role.code, "org": org.code, "path": routing.path_label(stages),
            "stages": [{"position": s.position, "label": s.label(), "at_state": s.at_state,
                        "approvers": [u.username for u in s.approvers]} for s in stages]}


@blp.route("/requests", methods=["GET"])
@login_required
def list_requests():
    """``view=mine`` (default), ``inbox`` (waiting on you, oldest due first) or ``all`` (in your
    scope); filters ``status``, ``role``, ``org``, ``overdue``; ``page``, ``per_page`` (≤ 200)."""
    view = request.args.get("view", "mine")
    page, per_page = paging()
    rows, total = queries.find(me(), view, queries.RequestFilters.parse(request.args), page, per_page)
    return {"view": view, "total": total, "page": page, "per_page": per_page,
            "requests": [request_view(r) for r in rows]}


@blp.route("/requests/<int:request_id>", methods=["GET"])
@login_required
def get_request(request_id: int):
    return request_view(queries.get_visible(me(), request_id))


@blp.route("/requests/<int:request_id>/approve", methods=["POST"])
@login_required
@blp.arguments(ApproveIn)
def approve_request(body, request_id: int):
    """Approve the open stage (the last approval creates the grant)."""
    return request_view(decisions.approve(me(), queries.get_visible(me(), request_id), body.get("comment")))


@blp.route("/requests/<int:request_id>/deny", methods=["POST"])
@login_required
@blp.arguments(DenyIn)
def deny_request(body, request_id: int):
    """Deny the request (a reason is required; the requester sees it)."""
    return request_view(decisions.deny(me(), queries.get_visible(me(), request_id), body["reason"]))


@blp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@login_required
def cancel_request(request_id: int):
    """Cancel your own pending request."""
    return request_view(cancel(me(), queries.get_visible(me(), request_id)))


@blp.route("/delegations", methods=["GET"])
@login_required
def list_delegations():
    """Delegations you gave and those naming you."""
    return delegation.overview(me())


@blp.route("/delegations", methods=["POST"])
@login_required
@blp.arguments(DelegationIn)
def post_delegation(body):
    """Name a delegate for your approvals from ``starts_on`` to ``ends_on`` (inclusive)."""
    made = delegation.create(me(), body["delegate"], body["starts_on"], body["ends_on"])
    return delegation.view(made), 201


@blp.route("/delegations/<int:delegation_id>/end", methods=["POST"])
@login_required
def end_delegation(delegation_id: int):
    return delegation.view(delegation.end(me(), delegation_id))


@blp.route("/me/attestations", methods=["POST"])
@login_required
@blp.arguments(AttestationIn)
def post_attestation(body):
    """Sign the current confidentiality statement (name its version: the text you read)."""
    signed = attestations.sign(me(), body["statement_version"], request.remote_addr)
    return {"statement_version": signed.statement_version, "signed_at": signed.signed_at.isoformat()}, 201


class RevokeIn(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=2000),
                           metadata={"description": "required, except when giving up your own grant"})


class BulkRevokeIn(Schema):
    employee_numbers = fields.Raw(required=True, metadata={
        "description": "a list of 8-digit employee numbers, or one string of them separated by commas, "
                       "spaces or new lines"})
    reason = fields.String(required=True, validate=validate.Length(max=2000))


@blp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@login_required
@blp.arguments(RevokeIn)
def revoke_grant(body, grant_id: int):
    """Revoke a grant: a coordinator in scope (reason required), or the holder giving it up."""
    from roles.queries import grant_view
    from workflows.revocation import revoke_grant as revoke
    return grant_view(revoke(me(), grant_id, body.get("reason")))


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=2000))


@blp.route("/grants/<int:grant_id>/suspend", methods=["POST"])
@login_required
@blp.arguments(ReasonIn)
def suspend_grant(body, grant_id: int):
    """A coordinator in scope suspends a grant (reason required; the holder is told)."""
    from roles.queries import grant_view
    from workflows.suspension import coordinator_suspend
    return grant_view(coordinator_suspend(me(), grant_id, body["reason"]))


@blp.route("/grants/<int:grant_id>/restore", methods=["POST"])
@login_required
@blp.arguments(ReasonIn)
def restore_grant(body, grant_id: int):
    """A coordinator in scope restores a suspended grant (after inactivity, leave, by hand); not
    a role needing the statement while the holder's has lapsed (409 ``statement_lapsed``)."""
    from roles.queries import grant_view
    from workflows.suspension import coordinator_restore
    return grant_view(coordinator_restore(me(), grant_id, body["reason"]))


@blp.route("/grants/bulk-revoke", methods=["POST"])
@login_required
@blp.arguments(BulkRevokeIn)
def bulk_revoke(body):
    """Revoke the access of former employees, in the caller's scope; a line per employee number."""
    from workflows.revocation import bulk_revoke as run
    if not isinstance(body["employee_numbers"], (str, list)):
        raise Invalid("bad_employee_numbers", "employee_numbers must be a list or a string.",
                      fields={"employee_numbers": ["list or string"]})
    lines = run(me(), body["employee_numbers"], body["reason"])
    return {"results": [line.as_dict() for line in lines],
            "revoked": sum(len(line.revoked) for line in lines)}
