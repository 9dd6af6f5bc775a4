"""The User Report by Application (as TAS printed it): per application, each person holding one
of its roles, with the org, when and by whom it was granted, who approved it, where it came from
and when it expires.

Rows: the grants in force or suspended (revoked, expired and past-their-end ones are gone, as in TAS),
ordered by application, last name, first name, role, org. "Approved By" lists the people who
decided the request's stages, in order (from the trail's ``request.stage_approved`` events; "for
X" when a delegate decided on X's behalf); grants that did not come from a request (TAS
carry-overs, the bootstrap, demo data) have none.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from audit.models import AuditEvent
from audit.reports.registry import Field, Prepared, ReportKind, text_arg
from audit.reports.scope import report_scope
from audit.reports.security_audit import catalog_choices, role_names, roles_filter
from edlink import clock
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User

COLUMNS = ("Application", "Username", "Last Name", "First Name", "Employee Number", "Role", "Org Code",
           "Org Name", "Granted On", "Granted By", "Approved By", "Source", "Expires", "Status")
EXTRAS = ("role", "grant")
SOURCES = {"request": "Request", "tas_import": "TAS", "bootstrap": "Bootstrap", "review": "Review",
           "demo": "Demo"}


def parse(args: Mapping[str, str]) -> dict:
    return {"application": text_arg(args, "application"), "org": text_arg(args, "org"),
            "role": text_arg(args, "role")}


def approvers(grant_ids: list[int]) -> dict[int, str]:
    """grant id -> "a; b (for c)": the deciders of the request that made each grant."""
    if not grant_ids:
        return {}
    wanted = set(grant_ids)
    request_of: dict[str, int] = {}
    for target_id, details in db.session.execute(select(AuditEvent.target_id, AuditEvent.details).where(
            AuditEvent.action == "request.approved", AuditEvent.target_type == "request")):
        grant = (details or {}).get("grant")
        if grant in wanted:
            request_of[target_id] = grant
    out: dict[int, list[str]] = defaultdict(list)
    ids = sorted(request_of)
    for start in range(0, len(ids), 500):
        for target_id, details in db.session.execute(
                select(AuditEvent.target_id, AuditEvent.details).where(
                    AuditEvent.action == "request.stage_approved", AuditEvent.target_type == "request",
                    AuditEvent.target_id.in_(ids[start:start + 500])).order_by(AuditEvent.seq)):
            d = details or {}
            who = d.get("decided_by", "")
            out[request_of[target_id]].append(who + (f" (for {d['on_behalf_of']})" if d.get("on_behalf_of") else ""))
    return {grant: "; ".join(names) for grant, names in out.items()}


def prepare(user: User, params: dict) -> Prepared:
    from roles.catalog import load
    from roles.models import Grant
    ids, label = report_scope(user, params.get("org"))
    roles = roles_filter(params)
    catalog = load()
    granter = aliased(User)
    app_of = {code: r.application for code, r in {**catalog.retired, **catalog.roles}.items()}
    q = (select(Grant.role_code, User.username, StaffRecord.last_name, StaffRecord.first_name,
                StaffRecord.employee_number, role_names().label("role_name"), Org.code, Org.name, Grant.starts_at,
                granter.username, Grant.source, Grant.ends_at, Grant.status, Grant.id)
         .select_from(Grant).join(Org, Org.id == Grant.org_id).join(User, User.id == Grant.user_id)
         .outerjoin(granter, granter.id == Grant.granted_by_id)
         .outerjoin(Link, and_(Link.user_id == User.id, Link.ended_at.is_(None)))
         .outerjoin(StaffRecord, StaffRecord.id == Link.staff_record_id)
         .where(Grant.status.in_(("active", "suspended")), Grant.org_id.in_(sorted(ids)),
                or_(Grant.ends_at.is_(None), Grant.ends_at > clock.now())))
    if roles is not None:
        q = q.where(Grant.role_code.in_(sorted(roles)))
    found = db.session.execute(q.order_by(func.coalesce(StaffRecord.last_name, ""),
                                          func.coalesce(StaffRecord.first_name, ""), "role_name", Org.code,
                                          Grant.id)).all()
    approved = approvers([row[-1] for row in found if row.source == "request"])
    rows = []
    for (role_code, username, last, first, number, role, org_code, org_name, starts, by, source, ends, status,
         grant_id) in found:
        application = app_of.get(role_code, role_code.split(".")[0])
        rows.append((catalog.applications.get(application, {}).get("name", application), username, last or "",
                     first or "", number or "", role, org_code, org_name, starts, by or "",
                     approved.get(grant_id, ""), SOURCES.get(source, source), ends, status.capitalize(),
                     role_code, grant_id))
    rows.sort(key=lambda r: r[0])  # stable: by application, keeping the query's order within one
    return Prepared(scope=label, count=len(rows), rows=rows, org=params.get("org"))


KIND = ReportKind(
    code="user-by-application", title="User Report by Application", columns=COLUMNS, extras=EXTRAS,
    parse=parse, prepare=prepare, date_columns=frozenset({"Granted On", "Expires"}),
    widths={"Application": 24, "Username": 18, "Role": 26, "Org Name": 30, "Approved By": 30,
            "Granted On": 16, "Expires": 16},
    fields=(Field("application", "Application", "select", choices=catalog_choices("application")),
            Field("org", "Organisation code", help="An LEA includes its schools and the sites it serves."),
            Field("role", "Role", "select", choices=catalog_choices("role"))),
    description="Per application, each person holding one of its roles: where, since when, granted by whom, "
                "approved by whom, from where (request, TAS) and until when (TAS's User Report by Application).")
