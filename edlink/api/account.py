"""/me: the caller, and linking."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink.api import login_required, me
from edlink.linking import link_account
from edlink.models import Link

blp = Blueprint("edlink_me", __name__, url_prefix="/api/v1/me", description="The caller")


class LinkIn(Schema):
    staff_id = fields.String(required=True, metadata={"description": "10-digit staff ID"})


def link_view(link: Link | None) -> dict | None:
    if link is None:
        return None
    r = link.staff_record
    return {"staff_id": r.staff_id, "employee_number": r.employee_number,
            "first_name": r.first_name, "last_name": r.last_name, "lea": r.lea.code,
            "sites": [s.code for s in r.sites], "staff_type": r.staff_type,
            "hr_status": r.status, "linked_at": link.created_at.isoformat()}


def me_view(user) -> dict:
    gate = current_app.extensions["edlink.gate"]
    grants = [{"id": g.id, "role": g.role_code, "org": g.org.code, "status": g.status,
               "in_force": in_force, "starts_at": g.starts_at.isoformat(),
               "ends_at": g.ends_at.isoformat() if g.ends_at else None}
              for g, in_force in gate.held_grants(user)]
    view = {"username": user.username, "display_name": user.display_name, "email": user.email,
            "issuer": user.issuer, "subject": user.subject,
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
            "linked": user.active_link is not None, "staff": link_view(user.active_link),
            "grants": grants, "grants_not_in_force_because": gate.why_not_in_force(user)}
    for extra in current_app.extensions.get(ME_EXTRAS, ()):  # pending requests, attestation (workflows)
        view.update(extra(user))
    return view


ME_EXTRAS = "edlink.me_extras"


def add_me_extra(app, build) -> None:
    """Let a package add keys to GET /me: ``build(user) -> dict``."""
    app.extensions.setdefault(ME_EXTRAS, []).append(build)


@blp.route("", methods=["GET"])
@login_required
def get_me():
    """The caller: username, linked staff record and active grants."""
    return me_view(me())


@blp.route("/link", methods=["POST"])
@login_required
@blp.arguments(LinkIn)
def post_link(body):
    """Link the caller's username to a staff ID (the registration-portal rule)."""
    link = link_account(me(), body["staff_id"])
    return {"linked": True, "staff": link_view(link)}, 201
