"""IEPs, validation results and activity records as the API shows them (pages read the same)."""
from __future__ import annotations

from ser_core.ieps.catalogue import BY_CODE, IEP_TYPES, STATUSES
from ser_core.ieps.validation import Result
from ser_core.models_iep import Iep, SpedActivity


def _iso(value):
    return value.isoformat() if value is not None else None


def iep_view(iep: Iep, full: bool = True) -> dict:
    view = {"id": iep.id, "state_id": iep.student.state_id, "lea": iep.lea.code, "iep_type": iep.iep_type,
            "iep_type_name": IEP_TYPES[iep.iep_type], "status": iep.status, "status_name": STATUSES[iep.status],
            "team_meeting_date": _iso(iep.team_meeting_date), "begin_date": _iso(iep.begin_date),
            "end_date": _iso(iep.end_date), "version": iep.version, "submitted": iep.submitted,
            "submitted_to_ser": "Y" if iep.submitted else "N", "submitted_at": _iso(iep.submitted_at),
            "made_official_at": _iso(iep.made_official_at)}
    if full:
        view["forms"] = [{"code": f.code, "title": BY_CODE[f.code].title, "data": dict(f.data or {})}
                         for f in iep.forms]
        kept = sorted(iep.versions, key=lambda v: -v.version)
        view["versions"] = [{"version": v.version, "made_official_at": _iso(v.made_official_at),
                             "submitted_at": _iso(v.submitted_at), "content": v.content} for v in kept]
    return view


def result_view(iep: Iep, result: Result) -> dict:
    return {"iep_id": iep.id, "ok": result.ok, "can_make_official": result.ok and iep.status != "official",
            "forms": [{"code": code, "title": BY_CODE[code].title, "status": status,
                       "findings": [{"level": f.level, "code": f.code, "message": f.message, "solution": f.solution}
                                    for f in findings]}
                      for code, status, findings in result.forms],
            "errors": [f.code for f in result.errors], "warnings": [f.code for f in result.warnings]}


def activity_view(a: SpedActivity) -> dict:
    from ser_core.exits import is_terminal
    return {"id": a.id, "lea": a.lea.code, "begin_date": _iso(a.begin_date), "opened_by_iep_id": a.opened_by_iep_id,
            "exit_date": _iso(a.exit_date), "exit_reason": a.exit_reason,
            "terminal": is_terminal(a.exit_reason) if a.exit_reason else None}
