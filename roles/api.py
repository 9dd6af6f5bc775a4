"""The catalog, grants and the gate under /api/v1."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink.api import login_required, me, paging
from edlink.auth import bearer_token
from edlink.errors import Invalid
from edlink.extensions import db
from edlink.models import User
from roles import gate, queries
from roles.authz import CHECK_PERMISSION

blp = Blueprint("roles_api", __name__, url_prefix="/api/v1", description="Catalog, grants and the gate")


class CheckIn(Schema):
    username = fields.String(required=True)
    permission = fields.String(required=True)
    org = fields.String(load_default=None, metadata={"description": "org code; omitted: anywhere"})


@blp.route("/catalog", methods=["GET"])
@login_required
def get_catalog():
    """Applications, permissions and roles (with what each allows and who approves it)."""
    return queries.catalog_view()


@blp.route("/grants", methods=["GET"])
@login_required
def list_grants():
    """Grants in the caller's scope (their own always): filters ``user``, ``person``, ``org``
    (that org and what it covers), ``role``, ``status``; ``page``, ``per_page`` (≤ 500)."""
    page, per_page = paging(500)
    rows, total = queries.find_grants(me(), queries.GrantFilters.parse(request.args), page, per_page)
    return {"total": total, "page": page, "per_page": per_page,
            "grants": [queries.grant_view(g) for g in rows]}


@blp.route("/grants/<int:grant_id>", methods=["GET"])
@login_required
def get_grant(grant_id: int):
    return queries.grant_view(queries.get_visible(me(), grant_id))


@blp.route("/authz/check", methods=["POST"])
@login_required
@blp.arguments(CheckIn)
def authz_check(body):
    """The gate for other applications: may ``username`` use ``permission`` at ``org``?

    The caller authenticates with an API token (Authorization: Bearer) whose user holds
    ``edlink.authz.check``. The answer: ``{allowed, reason, code}``."""
    if bearer_token() is None:
        raise Invalid("token_required", "Call /authz/check with an API token (Authorization: Bearer <token>).",
                      status=401)
    gate.require(me(), CHECK_PERMISSION)
    subject = db.session.execute(db.select(User).where(User.username == body["username"])).scalar_one_or_none()
    if subject is None:
        decision = gate.Decision(False, f"No user has the username {body['username']!r}.", "unknown_user")
    else:
        decision = gate.can(subject, body["permission"], body["org"])
    return {"allowed": decision.allowed, "reason": decision.reason, "code": decision.code,
            "username": body["username"], "permission": body["permission"], "org": body["org"]}
