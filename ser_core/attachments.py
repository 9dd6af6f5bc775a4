"""View Attachments: pertinent records about a student (e.g. a healthcare plan), uploaded with a
description; viewed, edited (description) or deleted. Stored in the database with the record:
the upload, its audit event and the record change commit or roll back together, every web
worker and both databases see the same files, and a database backup holds them."""
from __future__ import annotations

import os

from flask import Response, current_app

from edlink import clock
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import User
from roles import gate
from ser_core.access import WRITE, event, org_of, touch
from ser_core.guardians import require_guardian
from ser_core.models import Attachment, SerStudent

CONTENT_TYPES = {"pdf": "application/pdf", "doc": "application/msword",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "xls": "application/vnd.ms-excel",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "txt": "text/plain", "rtf": "application/rtf", "odt": "application/vnd.oasis.opendocument.text",
                 "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "tif": "image/tiff",
                 "tiff": "image/tiff"}


def attachments(student: SerStudent) -> list[Attachment]:
    return list(db.session.execute(db.select(Attachment).where(Attachment.student_id == student.id)
                                   .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())).scalars())


def get_attachment(student: SerStudent, attachment_id: int) -> Attachment:
    found = db.session.get(Attachment, attachment_id)
    if found is None or found.student_id != student.id:
        raise NotFound("attachment_not_found", "This student has no such attachment.")
    return found


def _description(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid("description_required", "Description is required (e.g. Healthcare Plan).",
                      fields={"description": ["required"]})
    if len(text) > 200:
        raise Invalid("description_too_long", "Description is at most 200 characters.",
                      fields={"description": ["at most 200 characters"]})
    return text


def _file(filename: str | None, data: bytes | None) -> tuple[str, str]:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()[:200]
    if not name or data is None:
        raise Invalid("file_required", "Choose a file to upload.", fields={"file": ["required"]})
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = current_app.config["SER_ATTACHMENT_TYPES"]
    if ext not in allowed:
        raise Invalid("file_type", f"Files of this type cannot be attached. Allowed: {', '.join(allowed)}.",
                      fields={"file": ["type not allowed"]})
    limit = current_app.config["SER_ATTACHMENT_MAX_BYTES"]
    if len(data) > limit:
        raise Invalid("file_too_large", f"The file is larger than the limit of {limit // 1024:,} KB.",
                      fields={"file": ["too large"]})
    if not data:
        raise Invalid("file_empty", "The file is empty.", fields={"file": ["empty"]})
    return name, CONTENT_TYPES.get(ext, "application/octet-stream")


def add_attachment(student: SerStudent, filename: str | None, data: bytes | None, description: str | None,
                   user: User) -> Attachment:
    gate.require(WRITE, org_of(student), user)
    require_guardian(student)
    text = _description(description)
    name, content_type = _file(filename, data)
    found = Attachment(student_id=student.id, filename=name, content_type=content_type, size=len(data),
                       description=text, data=data, uploaded_by_id=user.id)
    db.session.add(found)
    touch(student)
    db.session.flush()
    event("ser.attachment.added", user, student, {"attachment_id": found.id, "filename": name, "size": len(data),
                                                  "description": text})
    return found


def edit_attachment(student: SerStudent, found: Attachment, description: str | None, user: User) -> Attachment:
    gate.require(WRITE, org_of(student), user)
    text = _description(description)
    if text != found.description:
        before, found.description, found.updated_at = found.description, text, clock.now()
        touch(student)
        db.session.flush()
        event("ser.attachment.changed", user, student, {"attachment_id": found.id, "filename": found.filename,
                                                        "description": [before, text]})
    return found


def delete_attachment(student: SerStudent, found: Attachment, user: User) -> None:
    gate.require(WRITE, org_of(student), user)
    details = {"attachment_id": found.id, "filename": found.filename, "description": found.description}
    db.session.delete(found)
    touch(student)
    db.session.flush()
    event("ser.attachment.deleted", user, student, details)


def download(student: SerStudent, found: Attachment, user: User) -> Response:
    """The file as it was uploaded, for the page and the API alike; each view is audited."""
    event("ser.attachment.viewed", user, student, {"attachment_id": found.id, "filename": found.filename})
    return Response(found.data, mimetype=found.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{found.filename}\"", "X-Content-Type-Options": "nosniff"})
