"""The Security Audit Report (MiSiS's columns), for an org scope.

One row per grant that gives, or gave until its end, a role at a location in the scope:
Location Code, Employee Number, School Name, User Role(s), Last Name, First Name, Last Login
Date, Staff Type, Status — ``Active`` when the grant's end is in the future or absent,
``Inactive`` when it has passed (with the recommendation to remove it). Revoked grants are gone
and not listed. Filters: org (an LEA includes its schools and the sites it serves), application,
role, status.

Last Login Date is per role: the person's last sign-in during that grant's term (from its start
to its end, or to now) — taken from the ``user.login`` events, so a sign-in before the role was
granted, or after it ended, does not count for it. Empty when they have not signed in since.
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Date, String, and_, case, cast, collate, func, literal, or_, select, type_coerce

from audit.models import AuditEvent
from audit.reports.registry import Field, Prepared, ReportKind, text_arg
from audit.reports.scope import report_scope
from edlink import clock
from edlink.errors import Invalid
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.types import UTCDateTime

COLUMNS = ("Location Code", "Employee Number", "School Name", "User Role(s)", "Last Name", "First Name",
           "Last Login Date", "Staff Type", "Status", "Recommendation")
EXTRAS = ("username", "role", "grant")
STATUSES = ("active", "inactive")
REMOVE = "Remove: this access has expired"


def catalog_choices(what: str):
    def choices() -> list[tuple[str, str]]:
        from roles.catalog import load
        catalog = load()
        if what == "application":
            return [(c, a.get("name", c)) for c, a in sorted(catalog.applications.items())]
        return [(c, r.name) for c, r in sorted(catalog.roles.items())]
    return choices


def parse(args: Mapping[str, str]) -> dict:
    status = text_arg(args, "status")
    if status is not None and status.lower() not in STATUSES:
        raise Invalid("bad_filter", "status must be active or inactive.", fields={"status": ["unknown status"]})
    return {"org": text_arg(args, "org"), "application": text_arg(args, "application"),
            "role": text_arg(args, "role"), "status": status.lower() if status else None}


def roles_filter(params: dict) -> set[str] | None:
    """The role codes the application / role filters leave (None: every role)."""
    from roles.catalog import load
    catalog = load()
    roles = None
    if params.get("application"):
        if params["application"] not in catalog.applications:
            raise Invalid("bad_filter", f"No application has the code {params['application']!r}.",
                          fields={"application": ["unknown application"]})
        roles = {c for c, r in catalog.roles.items() if r.application == params["application"]}
    if params.get("role"):
        catalog.role(params["role"])  # 404 for an unknown role
        roles = {params["role"]} if roles is None else roles & {params["role"]}
    return roles


def role_names():
    """A SQL expression giving a grant's role name (for sorting the way the report reads)."""
    from roles.catalog import load
    from roles.models import Grant
    catalog = load()
    names = {code: catalog.name_of(code) for code in set(catalog.roles) | set(catalog.retired)}
    return case(names, value=Grant.role_code, else_=Grant.role_code) if names else Grant.role_code


def last_login_in_term():
    """The holder's last sign-in during the grant's term, as a SQL expression: the user's last
    sign-in when it falls in the term (the common case, no lookup), else the latest ``user.login``
    event inside it (only for grants that ended before that last sign-in)."""
    from roles.models import Grant
    in_term = (select(func.max(AuditEvent.occurred_at))
               .where(AuditEvent.actor_id == Grant.user_id, AuditEvent.action == "user.login",
                      AuditEvent.occurred_at >= Grant.starts_at, AuditEvent.occurred_at < Grant.ends_at)
               .correlate(Grant).scalar_subquery())
    return type_coerce(case(
        (User.last_login_at.is_(None), literal(None)),
        (User.last_login_at < Grant.starts_at, literal(None)),
        (or_(Grant.ends_at.is_(None), User.last_login_at < Grant.ends_at), User.last_login_at),
        else_=in_term), UTCDateTime())


def login_date(dialect_name: str):
    """The report's Last Login Date as SQL: the UTC date of the last sign-in in the grant's term,
    made by the database (no per-row conversion in Python): ISO text on SQLite (which keeps
    instants as UTC text), a date on PostgreSQL."""
    login = last_login_in_term()
    if dialect_name == "postgresql":
        return type_coerce(cast(func.timezone("UTC", login), Date), Date)
    return type_coerce(func.date(login), String)


def query(ids: set[int] | None, params: dict, roles: set[str] | None, dialect_name: str):
    """Rows in the report's form — the columns, then the extras — finished by the database
    (empty text for a missing value, the status and its recommendation), so a statewide report's
    264,000 rows go to the writers as they come."""
    from roles.models import Grant
    now = clock.now()
    active = or_(Grant.ends_at.is_(None), Grant.ends_at > now)
    q = (select(Org.code, func.coalesce(StaffRecord.employee_number, ""), Org.name, role_names().label("role_name"),
                func.coalesce(StaffRecord.last_name, ""), func.coalesce(StaffRecord.first_name, ""),
                login_date(dialect_name).label("last_login"), func.coalesce(StaffRecord.staff_type, ""),
                case((active, "Active"), else_="Inactive"), case((active, ""), else_=REMOVE),
                User.username, Grant.role_code, Grant.id)
         .select_from(Grant).join(Org, Org.id == Grant.org_id).join(User, User.id == Grant.user_id)
         .outerjoin(Link, and_(Link.user_id == User.id, Link.ended_at.is_(None)))
         .outerjoin(StaffRecord, StaffRecord.id == Link.staff_record_id)
         .where(Grant.status != "revoked"))  # active, suspended, expired (a scan beats the index for 90%)
    if ids is not None:
        q = q.where(Grant.org_id.in_(sorted(ids)))
    if roles is not None:
        q = q.where(Grant.role_code.in_(sorted(roles)))
    if params.get("status") == "active":
        q = q.where(active)
    elif params.get("status") == "inactive":
        q = q.where(~active)
    return q


def _rows(q):
    # Core rows on the session's connection, as the database gives them (a statewide report has
    # 264,000): no ORM objects, no per-row work in Python
    conn = db.session.connection()
    keys = [Org.code, func.coalesce(StaffRecord.last_name, ""), func.coalesce(StaffRecord.first_name, "")]
    if conn.dialect.name == "postgresql":
        # byte order, as SQLite sorts (and much faster than the locale's); the sort in memory;
        # no JIT: the planner's cost (inflated by the per-role last sign-in's subquery, which
        # rarely runs) sets it compiling for 2 s in every worker, for a read of under 1 s
        keys = [collate(k, "C") for k in keys]
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.exec_driver_sql("SET LOCAL jit = off")
    result = conn.execute(q.order_by(None).order_by(*keys, "role_name", "id").execution_options(yield_per=2000))
    try:
        for batch in result.partitions():
            yield from batch
    finally:  # read to the end or not (a page of it, a closed download), the cursor is let go
        result.close()


def count(ids: set[int] | None, params: dict, roles: set[str] | None) -> int:
    """The report's row count from the grant table alone (the joins add no rows: one active link
    per user, one staff record per link)."""
    from roles.models import Grant
    q = select(func.count()).select_from(Grant).where(Grant.status != "revoked")
    if ids is not None:
        q = q.where(Grant.org_id.in_(sorted(ids)))
    if roles is not None:
        q = q.where(Grant.role_code.in_(sorted(roles)))
    active = or_(Grant.ends_at.is_(None), Grant.ends_at > clock.now())
    if params.get("status") == "active":
        q = q.where(active)
    elif params.get("status") == "inactive":
        q = q.where(~active)
    return db.session.execute(q).scalar_one()


def prepare(user: User, params: dict) -> Prepared:
    ids, label = report_scope(user, params.get("org"))
    roles = roles_filter(params)
    if everything(ids):
        ids = None  # no IN list of every org
    q = query(ids, params, roles, db.session.get_bind().dialect.name)
    return Prepared(scope=label, count=count(ids, params, roles), rows=_rows(q), org=params.get("org"))


def everything(ids: set[int]) -> bool:
    return len(ids) == db.session.execute(select(func.count()).select_from(Org)).scalar_one()


KIND = ReportKind(
    code="security-audit", title="Security Audit Report", columns=COLUMNS, extras=EXTRAS,
    parse=parse, prepare=prepare, date_columns=frozenset({"Last Login Date"}),
    widths={"Location Code": 12, "Employee Number": 12, "School Name": 34, "User Role(s)": 28,
            "Last Name": 16, "First Name": 14, "Last Login Date": 13, "Staff Type": 22, "Status": 9,
            "Recommendation": 32},
    fields=(Field("org", "Organisation code", help="An LEA includes its schools and the sites it serves."),
            Field("application", "Application", "select", choices=catalog_choices("application")),
            Field("role", "Role", "select", choices=catalog_choices("role")),
            Field("status", "Status", "select", choices=lambda: [("active", "Active"), ("inactive", "Inactive")])),
    description="Every role held at each location, with the holder's last sign-in in that role and "
                "whether it is still active (MiSiS's columns). Run it every six months.")
