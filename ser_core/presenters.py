"""SER records as the API shows them (pages read the same objects)."""
from __future__ import annotations

from ser_core.access import is_inactive
from ser_core.models import GENDERS, Attachment, Evaluation, Guardian, Jurisdiction, RegistryStudent, SerStudent


def _iso(value):
    return value.isoformat() if value is not None else None


def pii_view(person: SerStudent | RegistryStudent) -> dict:
    return {"state_id": person.state_id, "first_name": person.first_name, "middle_name": person.middle_name,
            "last_name": person.last_name, "suffix": person.suffix, "birth_date": _iso(person.birth_date),
            "gender": person.gender, "gender_name": GENDERS.get(person.gender, person.gender),
            "ethnicity": person.ethnicity, "race": person.race}


def row_view(student: SerStudent, open_services: bool) -> dict:
    return {**pii_view(student), "lea": student.lea.code, "lea_name": student.lea.name,
            "school": student.site.code if student.site else None,
            "school_name": student.site.name if student.site else None,
            "jurisdiction_open": student.jurisdiction_open, "open_services": open_services,
            "inactive": is_inactive(student)}


def jurisdiction_view(record: Jurisdiction) -> dict:
    return {"id": record.id, "lea": record.lea.code, "lea_name": record.lea.name, "school": record.site.code,
            "school_name": record.site.name, "kind": record.kind, "begin_date": _iso(record.begin_date),
            "end_date": _iso(record.end_date), "end_reason": record.end_reason, "local_id": record.local_id}


def guardian_view(g: Guardian) -> dict:
    return {"id": g.id, "title": g.title, "first_name": g.first_name, "last_name": g.last_name, "suffix": g.suffix,
            "relationship": g.relationship_, "address": g.address, "city": g.city, "state": g.state,
            "zip_code": g.zip_code, "phone": g.phone, "email": g.email}


def attachment_view(a: Attachment) -> dict:
    return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
            "description": a.description, "uploaded_at": a.uploaded_at.isoformat(),
            "uploaded_by": a.uploaded_by.username if a.uploaded_by else None}


def evaluation_view(e: Evaluation) -> dict:
    return {"id": e.id, "kind": e.kind, "lea": e.lea.code, "evaluation_date": _iso(e.evaluation_date),
            "permission_request_date": _iso(e.permission_request_date), "parent_decision": e.parent_decision,
            "decision_date": _iso(e.decision_date), "reevaluation_reason": e.reevaluation_reason,
            "completion_date": _iso(e.completion_date), "eligibility_date": _iso(e.eligibility_date),
            "parent_signature_date": _iso(e.parent_signature_date), "coordinator_staff_id": e.coordinator_staff_id,
            "declined_on": _iso(e.declined_on),
            "exceptionalities": [{"id": x.id, "code": x.code, "detail": x.detail, "primary": x.is_primary}
                                 for x in e.exceptionalities]}
