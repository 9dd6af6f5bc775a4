"""Auditor reports. First: the Security Audit Report (MiSiS's columns), for an org scope.

One row per grant that still gives, or gave until its end, a role at a location in the scope:
Location Code, Employee Number, School Name, User Role(s), Last Name, First Name, Last Login
Date, Staff Type, Status — ``Active`` when the grant's end is in the future or absent,
``Inactive`` when it has passed (with the recommendation to remove it). Revoked grants are gone
and not listed. Filters: org (an LEA includes its schools and the sites it serves), application,
role, status. Who may run it: holders of ``edlink.report.run`` or ``edlink.audit.read`` at the
org asked for (without an org: every org they hold either at); an LEA's coordinator or auditor
never sees another LEA's rows. Each run is a ``report.generated`` event.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import audit
from audit.export import _cell
from edlink import authz, clock
from edlink.errors import Forbidden, Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.orgs import covered_org_ids, find_org

REPORT_PERMISSIONS = ("edlink.report.run", "edlink.audit.read")
SAR_COLUMNS = ("Location Code", "Employee Number", "School Name", "User Role(s)", "Last Name", "First Name",
               "Last Login Date", "Staff Type", "Status", "Recommendation")
STATUSES = ("active", "inactive")
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@dataclass
class SarFilters:
    org: str | None = None
    application: str | None = None
    role: str | None = None
    status: str | None = None

    @classmethod
    def parse(cls, args) -> SarFilters:
        def get(name):
            return (args.get(name) or "").strip() or None
        status = get("status")
        if status is not None and status.lower() not in STATUSES:
            raise Invalid("bad_filter", "status must be active or inactive.", fields={"status": ["unknown status"]})
        return cls(org=get("org"), application=get("application"), role=get("role"),
                   status=status.lower() if status else None)


def report_scope(user: User, org_code: str | None) -> tuple[set[int], str]:
    """The org ids the report covers and a label for them; 403 outside the caller's scope."""
    allowed: set[int] = set()
    for permission in REPORT_PERMISSIONS:
        allowed |= authz.orgs_with(user, permission)
    if not allowed:
        raise Forbidden("forbidden", "Reports are for security coordinators, auditors and state administrators.")
    if org_code is None:
        return allowed, "everything you may report on"
    org = find_org(org_code)
    if org is None:
        raise NotFound("unknown_org", f"No organisation has the code {org_code!r}.")
    wanted = covered_org_ids(org)
    if not wanted <= allowed:
        raise Forbidden("forbidden", f"You may not run reports for {org.code}: it is outside your scope.")
    return wanted, f"{org.code} {org.name}"


def security_audit_rows(user: User, filters: SarFilters) -> tuple[str, list[dict]]:
    """(scope label, rows) of the Security Audit Report, by location, then last name."""
    from roles.catalog import load
    from roles.models import Grant
    ids, label = report_scope(user, filters.org)
    catalog = load()
    roles = None
    if filters.application:
        if filters.application not in catalog.applications:
            raise Invalid("bad_filter", f"No application has the code {filters.application!r}.",
                          fields={"application": ["unknown application"]})
        roles = {c for c, r in catalog.roles.items() if r.application == filters.application}
    if filters.role:
        catalog.role(filters.role)  # 404 for an unknown role
        roles = {filters.role} if roles is None else roles & {filters.role}
    query = (db.select(Grant, Org, User, StaffRecord)
             .join(Org, Org.id == Grant.org_id).join(User, User.id == Grant.user_id)
             .outerjoin(Link, (Link.user_id == User.id) & Link.ended_at.is_(None))
             .outerjoin(StaffRecord, StaffRecord.id == Link.staff_record_id)
             .where(Grant.org_id.in_(sorted(ids)), Grant.status.in_(("active", "suspended", "expired"))))
    if roles is not None:
        query = query.where(Grant.role_code.in_(sorted(roles)))
    now = clock.now()
    rows = []
    for grant, org, person, record in db.session.execute(query).all():
        active = grant.ends_at is None or grant.ends_at > now
        if filters.status and filters.status != ("active" if active else "inactive"):
            continue
        rows.append({
            "Location Code": org.code, "School Name": org.name,
            "Employee Number": record.employee_number if record else "",
            "User Role(s)": catalog.name_of(grant.role_code),
            "Last Name": record.last_name if record else "", "First Name": record.first_name if record else "",
            "Last Login Date": person.last_login_at.date().isoformat() if person.last_login_at else "",
            "Staff Type": record.staff_type if record else "",
            "Status": "Active" if active else "Inactive",
            "Recommendation": "" if active else "Remove: this access has expired",
            "username": person.username, "role": grant.role_code, "grant": grant.id,
        })
    rows.sort(key=lambda r: (r["Location Code"], r["Last Name"], r["First Name"], r["User Role(s)"]))
    return label, rows


def run_security_audit(user: User, filters: SarFilters, fmt: str | None) -> tuple[str, str, object]:
    """(filename, mimetype, body) of the report in ``fmt`` (json, csv), recorded as report.generated."""
    fmt = (fmt or "json").lower()
    if fmt not in FORMATS:
        raise Invalid("bad_format", f"format must be one of {', '.join(FORMATS)}, not {fmt!r}.",
                      fields={"format": ["unknown format"]})
    label, rows = security_audit_rows(user, filters)
    audit.record("report.generated", user, ("report", "security-audit"), filters.org,
                 {"report": "security-audit", "format": fmt, "rows": len(rows),
                  "filters": {k: v for k, v in vars(filters).items() if v}})
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    name = f"security-audit-{filters.org or 'all'}-{stamp}.{fmt}"
    if fmt == "json":
        return name, FORMATS[fmt], {"report": "Security Audit Report", "scope": label,
                                    "generated_at": clock.now().isoformat(), "generated_by": user.username,
                                    "columns": list(SAR_COLUMNS), "rows": rows}
    return name, FORMATS[fmt], _csv(rows)


def _csv(rows: list[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SAR_COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(row[c]) for c in SAR_COLUMNS])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
