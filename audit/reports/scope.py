"""Who may run auditor reports, and over which orgs.

Holders of ``edlink.report.run`` or ``edlink.audit.read`` at an org report on what that grant
covers (an LEA: its schools and the sites it serves); without an org, on everything they hold
either at. Asking for an org outside that answers 403, so an LEA's coordinator or auditor never
sees another LEA's rows.
"""
from __future__ import annotations

from edlink import authz
from edlink.errors import Forbidden, NotFound
from edlink.extensions import db
from edlink.models import Org, User
from edlink.orgs import covered_org_ids, find_org

REPORT_PERMISSIONS = ("edlink.report.run", "edlink.audit.read")


def allowed_org_ids(user: User) -> set[int]:
    allowed: set[int] = set()
    for permission in REPORT_PERMISSIONS:
        allowed |= authz.orgs_with(user, permission)
    return allowed


def may_report(user: User) -> bool:
    return bool(allowed_org_ids(user))


def report_scope(user: User, org_code: str | None) -> tuple[set[int], str]:
    """The org ids the report covers and a label for them; 403 outside the caller's scope."""
    allowed = allowed_org_ids(user)
    if not allowed:
        raise Forbidden("forbidden", "Reports are for security coordinators, auditors and state administrators.")
    if org_code is None:
        return allowed, _label(allowed)
    org = find_org(org_code)
    if org is None:
        raise NotFound("unknown_org", f"No organisation has the code {org_code!r}.")
    wanted = covered_org_ids(org)
    if not wanted <= allowed:
        raise Forbidden("forbidden", f"You may not run reports for {org.code}: it is outside your scope.")
    return wanted, f"{org.code} {org.name}" + (" (with the sites it covers)" if len(wanted) > 1 else "")


def _label(ids: set[int]) -> str:
    """Everything the reader may report on, named by its top orgs (the state, or their LEAs)."""
    top = db.session.execute(db.select(Org.code, Org.name).where(
        Org.id.in_(sorted(ids)), Org.kind.in_(("state", "lea"))).order_by(Org.kind != "state", Org.code)).all()
    if not top:
        return f"{len(ids)} sites"
    if any(code for code, _n in top[:1]) and len(ids) == db.session.execute(
            db.select(db.func.count()).select_from(Org)).scalar_one():
        return f"{top[0][0]} {top[0][1]} (everything)"
    if len(top) > 3:
        return f"{len(top)} organisations ({', '.join(c for c, _n in top[:3])}, …)"
    return "; ".join(f"{c} {n}" for c, n in top)
