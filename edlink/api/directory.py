"""Staff directory and organisation tree endpoints."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from edlink import authz, orgs
from edlink import staff as staff_service
from edlink.api import login_required, me
from edlink.errors import DomainError, Forbidden, NotFound
from edlink.extensions import db
from edlink.models import Org

blp = Blueprint("edlink_directory", __name__, url_prefix="/api/v1",
                description="Staff directory and organisations")


class UsernameIn(Schema):
    username = fields.String(required=True, allow_none=True,
                             metadata={"description": "identity username; empty or null clears it"})


def _actor(source: str) -> staff_service.Actor:
    return staff_service.Actor(me(), source, authz.orgs_with("edlink.staff.manage"))


def staff_view(r) -> dict:
    return {"staff_id": r.staff_id, "employee_number": r.employee_number, "first_name": r.first_name,
            "last_name": r.last_name, "email": r.email, "lea": r.lea.code,
            "sites": [s.code for s in r.sites], "staff_type": r.staff_type, "status": r.status,
            "username": r.username}


def org_view(o: Org) -> dict:
    return {"code": o.code, "name": o.name, "kind": o.kind,
            "parent": o.parent.code if o.parent else None,
            "served_by": o.served_by.code if o.served_by else None}


@blp.route("/orgs", methods=["GET"])
@login_required
def list_orgs():
    """The organisation tree, state first, then by code."""
    return {"orgs": [org_view(o) for o in orgs.list_orgs()]}


@blp.route("/staff/import", methods=["POST"])
@login_required
def import_staff():
    """Apply a staff CSV (body as text/csv, or a multipart field named file) whole or not at all."""
    if not authz.orgs_with("edlink.staff.manage"):
        raise Forbidden("forbidden", "You do not manage any school system's staff.")
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise DomainError("bad_file", "Send the CSV as the request body (text/csv) or as a multipart "
                                      "field named file.", status=400)
    return staff_service.import_staff(data, _actor("api")).as_dict()


@blp.route("/staff/<staff_id>", methods=["GET"])
@login_required
def get_staff(staff_id: str):
    """One staff record, with its history."""
    record = staff_service.get_staff(staff_id)
    if not (authz.can("edlink.staff.read", record.lea) or authz.can("edlink.staff.manage", record.lea)):
        raise NotFound("unknown_staff_id", f"No staff record has the staff ID {staff_id}.")
    return {**staff_view(record), "history": [
        {"field": h.field, "from": h.old_value, "to": h.new_value, "at": h.changed_at.isoformat(),
         "by": h.changed_by.username if h.changed_by else None, "source": h.source}
        for h in staff_service.history(record)]}


@blp.route("/staff/<staff_id>/username", methods=["PUT"])
@login_required
@blp.arguments(UsernameIn)
def put_username(body, staff_id: str):
    """Set or clear the identity username on a staff record (ends any link it had)."""
    record = staff_service.get_staff(staff_id)
    if not authz.can("edlink.staff.manage", record.lea):
        if not authz.can("edlink.staff.read", record.lea):
            raise NotFound("unknown_staff_id", f"No staff record has the staff ID {staff_id}.")
        raise Forbidden("forbidden", "You do not manage the staff of this school system.")
    staff_service.set_username(record, body.get("username"), _actor("api"))
    db.session.flush()
    return staff_view(record)
