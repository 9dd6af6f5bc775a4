"""Who has access: grants in the caller's scope, filtered and paged (pages and API share this)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_

from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.orgs import find_org
from roles import gate
from roles.catalog import load
from roles.models import GRANT_STATUSES, Grant

# who may look at grants beyond their own: coordinators (revoke), auditors and report runners
SCOPE_PERMISSIONS = ("edlink.grant.revoke", "edlink.audit.read", "edlink.report.run")


@dataclass
class GrantFilters:
    user: str | None = None      # username, exact
    person: str | None = None    # part of a username, a name, a staff ID or employee number
    org: str | None = None       # org code: grants at that org and at the orgs it covers
    role: str | None = None
    status: str | None = None

    @classmethod
    def parse(cls, args) -> GrantFilters:
        def get(name):
            return (args.get(name) or "").strip() or None
        status = get("status")
        if status is not None and status not in GRANT_STATUSES:
            raise Invalid("bad_filter", f"status must be one of {', '.join(GRANT_STATUSES)}.",
                          fields={"status": ["unknown status"]})
        return cls(user=get("user"), person=get("person") or get("q"), org=get("org"),
                   role=get("role"), status=status)


def scope_ids(user: User) -> set[int]:
    """Orgs whose grants the user may see (besides their own)."""
    ids: set[int] = set()
    for permission in SCOPE_PERMISSIONS:
        ids |= gate.orgs_with(user, permission)
    return ids


def find_grants(user: User, filters: GrantFilters, page: int = 1, per_page: int = 25,
                *, own_only: bool = False) -> tuple[list[Grant], int]:
    """One page of grants the user may see (newest first) and how many match."""
    query = db.select(Grant)
    ids = set() if own_only else scope_ids(user)
    query = query.where(or_(Grant.user_id == user.id, Grant.org_id.in_(sorted(ids))) if ids
                        else Grant.user_id == user.id)
    if filters.user:
        query = query.where(Grant.user_id.in_(db.select(User.id).where(User.username == filters.user)))
    if filters.person:
        like = f"%{filters.person.lower()}%"
        staff_users = (db.select(Link.user_id).join(StaffRecord, StaffRecord.id == Link.staff_record_id)
                       .where(Link.ended_at.is_(None), or_(
                           db.func.lower(StaffRecord.first_name + " " + StaffRecord.last_name).like(like),
                           StaffRecord.staff_id == filters.person,
                           StaffRecord.employee_number == filters.person)))
        query = query.where(or_(Grant.user_id.in_(db.select(User.id).where(
            db.func.lower(User.username).like(like))), Grant.user_id.in_(staff_users)))
    if filters.org:
        org = find_org(filters.org)
        if org is None:
            raise NotFound("unknown_org", f"No organisation has the code {filters.org!r}.")
        query = query.where(Grant.org_id.in_(sorted(gate.cache.snapshot().covered(org.id))))
    if filters.role:
        query = query.where(Grant.role_code == filters.role)
    if filters.status:
        query = query.where(Grant.status == filters.status)
    total = db.session.execute(query.with_only_columns(db.func.count(Grant.id)).order_by(None)).scalar_one()
    rows = db.session.execute(query.order_by(Grant.created_at.desc(), Grant.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return list(rows), total


def get_visible(user: User, grant_id: int) -> Grant:
    grant = db.session.get(Grant, grant_id)
    if grant is None or (grant.user_id != user.id and grant.org_id not in scope_ids(user)):
        raise NotFound("unknown_grant", f"No grant {grant_id} is visible to you.")
    return grant


def grant_view(grant: Grant) -> dict:
    catalog = load()
    record = grant.user.active_link.staff_record if grant.user.active_link else None

    def when(value):
        return value.isoformat() if value else None
    return {"id": grant.id, "user": grant.user.username,
            "person": f"{record.first_name} {record.last_name}" if record else None,
            "employee_number": record.employee_number if record else None,
            "role": grant.role_code, "role_name": catalog.name_of(grant.role_code),
            "org": grant.org.code, "org_name": grant.org.name, "status": grant.status,
            "starts_at": when(grant.starts_at), "ends_at": when(grant.ends_at), "source": grant.source,
            "granted_by": grant.granted_by.username if grant.granted_by else None,
            "created_at": when(grant.created_at),
            "revoked_at": when(grant.revoked_at),
            "revoked_by": grant.revoked_by.username if grant.revoked_by else None,
            "revoked_reason": grant.revoked_reason,
            "status_changed_at": when(grant.status_changed_at), "status_reason": grant.status_reason,
            "keycloak": keycloak_state(grant)}


def keycloak_state(grant: Grant) -> str | None:
    """``pending`` while a push to Keycloak waits (e.g. no Keycloak account yet), else None."""
    from edlink.idp.keycloak_admin import provisioning_enabled
    from roles.provisioning import pending_for
    if not provisioning_enabled():
        return None
    return "pending" if pending_for(grant) is not None else None


def catalog_view() -> dict:
    catalog = load()
    return {
        "applications": [{"code": c, **a} for c, a in sorted(catalog.applications.items())],
        "permissions": [{"code": c, "description": d} for c, d in sorted(catalog.permissions.items())],
        "roles": [{"code": r.code, "name": r.name, "application": r.application,
                   "description": r.description, "scope": list(r.scope),
                   "approval": [{"role": a, "name": catalog.name_of(a)} for a in r.approval],
                   "implies": list(r.implies), "permissions": sorted(catalog.effective.get(r.code, ())),
                   "requires_statement": r.requires_statement,
                   "max_holders_per_lea": r.max_holders_per_lea, "max_days": r.max_days,
                   "tas_codes": list(r.tas_codes)} for r in catalog.roles.values()],
        "retired_roles": [{"code": r.code, "name": r.name} for r in catalog.retired.values()],
    }


_ = Org
