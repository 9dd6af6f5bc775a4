"""The audit trail under /api/v1/audit."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from audit import audit_key
from audit.verify import PROBLEMS, verify
from edlink import authz
from edlink.api import login_required
from edlink.errors import Forbidden

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit", description="The audit trail")


class AuditHeadOut(Schema):
    seq = fields.Integer(required=True)
    hash = fields.String(required=True)
    occurred_at = fields.String(allow_none=True)


class AuditVerifyOut(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "true when the whole chain verifies"})
    count = fields.Integer(required=True, metadata={"description": "events verified"})
    head = fields.Nested(AuditHeadOut, allow_none=True,
                         metadata={"description": "the last event verified (on failure: the last good one)"})
    bad_seq = fields.Integer(allow_none=True, metadata={"description": "the first bad sequence number"})
    problem = fields.String(allow_none=True, metadata={"description": "what is wrong there: " + ", ".join(PROBLEMS)})
    message = fields.String()
    checkpoint_seq = fields.Integer(allow_none=True)


@blp.route("/verify", methods=["GET"])
@login_required
@blp.response(200, AuditVerifyOut)
def verify_trail():
    """Verify the hash chain of the whole trail (200 either way; see ``ok``)."""
    if not authz.can("edlink.audit.read"):
        raise Forbidden("forbidden", "You do not have the permission edlink.audit.read.")
    return verify(audit_key()).as_dict()
