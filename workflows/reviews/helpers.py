"""Decision helpers: what a reviewer needs to know about each grant, and a recommendation.

Worked out when asked (never stale), for a batch of items in a handful of queries:
- last sign-in: ``User.last_login_at``;
- last use of the application, from the audit trail: for eSER the latest ``ser.*`` event the
  person caused; for any other application the latest event the person caused at an org the
  school system covers, leaving out signing in and out, linking and asking for access
  (``user.*``, ``link.*``, ``request.submitted``, ``authz.denied``);
- HR status and staff type, from the staff record linked to the account;
- whether the grant's org still matches the person's assignment: a grant at the LEA needs the
  staff record's employer to be that LEA, a grant at a site needs the site among the record's sites;
- grant age (days since it started) and who approved it (the decided stages of the request
  that made it; otherwise where it came from: a TAS carry-over, the command line, the demo);
- the recommendation: **remove** when the account is disabled, not linked, the HR status is not
  active (terminated, on leave, pending HR), the org no longer matches the assignment, or the
  person has not signed in for more than ``REVIEW_INACTIVE_DAYS`` (default 90; never signed in
  counts from the grant's start); otherwise **keep**.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, not_, or_
from sqlalchemy.orm import selectinload

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.models import Link, StaffRecord
from roles.cache import snapshot
from roles.catalog import load
from workflows.models import AccessRequest
from workflows.reviews.models import ReviewItem
from workflows.reviews.settings import setting

NOT_USE = ("user.", "link.", "request.submitted", "authz.denied")
SOURCES = {"tas_import": "carried over from TAS", "bootstrap": "bootstrapped on the command line",
           "demo": "demo data", "review": "an access review", "request": "an access request"}


@dataclass
class Helpers:
    last_sign_in: _dt.datetime | None
    last_use: _dt.datetime | None
    hr_status: str                 # active | leave | terminated | pending_hr | not linked
    staff_type: str | None
    person: str | None             # the staff record's name
    employee_number: str | None
    assignment: str                # employer and sites, e.g. "101; sites 101002"
    org_matches: bool
    grant_status: str
    grant_age_days: int
    approved_by: list[str] = field(default_factory=list)
    recommendation: str = "keep"   # keep | remove
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("last_sign_in", "last_use"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def _records(user_ids: set[int]) -> dict[int, StaffRecord]:
    rows = db.session.execute(db.select(Link.user_id, StaffRecord).join(
        StaffRecord, StaffRecord.id == Link.staff_record_id).where(
        Link.user_id.in_(user_ids), Link.ended_at.is_(None))
        .options(selectinload(StaffRecord.sites), selectinload(StaffRecord.lea))).all()
    return {uid: record for uid, record in rows}


def _last_use(user_ids: set[int], application: str, lea_id: int) -> dict[int, _dt.datetime]:
    query = db.select(AuditEvent.actor_id, func.max(AuditEvent.occurred_at)).where(
        AuditEvent.actor_id.in_(user_ids))
    if application == "eser":
        query = query.where(AuditEvent.action.like("ser.%"))
    else:
        snap = snapshot()
        codes = sorted(snap.code_of[o] for o in snap.covered(lea_id) if o in snap.code_of)
        query = query.where(AuditEvent.org_code.in_(codes),
                            not_(or_(*[AuditEvent.action.like(p + "%") for p in NOT_USE])))
    rows = db.session.execute(query.group_by(AuditEvent.actor_id)).all()
    return {uid: clock.as_utc(at) for uid, at in rows if at is not None}


def _approvals(grant_ids: set[int]) -> dict[int, list[str]]:
    requests = db.session.execute(db.select(AccessRequest).where(AccessRequest.grant_id.in_(grant_ids))
                                  .options(selectinload(AccessRequest.stages))).scalars().all()
    catalog = load()
    out: dict[int, list[str]] = {}
    for request in requests:
        names = []
        for stage in request.stages:
            if stage.status == "approved" and stage.decided_by is not None:
                who = stage.decided_by.username
                if stage.on_behalf_of is not None:
                    who += f" for {stage.on_behalf_of.username}"
                names.append(f"{catalog.name_of(stage.approver_role)}: {who} "
                             f"({stage.decided_at:%Y-%m-%d})")
        out[request.grant_id] = names
    return out


def _matches(record: StaffRecord | None, org) -> bool:
    if record is None:
        return False
    if org.kind == "lea":
        return record.lea_id == org.id
    return any(site.id == org.id for site in record.sites)


def compute(items: list[ReviewItem], application: str, lea_id: int,
            now: _dt.datetime | None = None) -> dict[int, Helpers]:
    """Helpers for each item, keyed by item id."""
    if not items:
        return {}
    now = now or clock.now()
    inactive = _dt.timedelta(days=int(setting("REVIEW_INACTIVE_DAYS")))
    user_ids = {i.user_id for i in items}
    records = _records(user_ids)
    used = _last_use(user_ids, application, lea_id)
    approvals = _approvals({i.grant_id for i in items})
    out = {}
    for item in items:
        grant, user, record = item.grant, item.user, records.get(item.user_id)
        reasons = []
        if user.disabled:
            reasons.append("the account is disabled")
        if record is None:
            reasons.append("not linked to a staff record")
        elif record.status != "active":
            reasons.append(f"HR status is {record.status.replace('_', ' ')}")
        matches = _matches(record, grant.org)
        if record is not None and not matches:
            reasons.append(f"no longer assigned to {grant.org.code}")
        seen = user.last_login_at
        if seen is None and now - grant.starts_at > inactive:
            reasons.append(f"never signed in since the grant started {(now - grant.starts_at).days} days ago")
        elif seen is not None and now - seen > inactive:
            reasons.append(f"no sign-in for {(now - seen).days} days")
        if grant.source == "request":
            approved = approvals.get(grant.id) or [f"granted by {grant.granted_by.username}"
                                                    if grant.granted_by else "an access request"]
        else:
            approved = [SOURCES.get(grant.source, grant.source) +
                        (f" (by {grant.granted_by.username})" if grant.granted_by else "")]
        sites = ", ".join(s.code for s in record.sites) if record is not None else ""
        out[item.id] = Helpers(
            last_sign_in=seen, last_use=used.get(item.user_id),
            hr_status=record.status if record is not None else "not linked",
            staff_type=record.staff_type if record is not None else None,
            person=record.full_name if record is not None else None,
            employee_number=record.employee_number if record is not None else None,
            assignment=(record.lea.code + (f"; sites {sites}" if sites else "")) if record is not None else "",
            org_matches=matches, grant_status=grant.status,
            grant_age_days=max((now - grant.starts_at).days, 0), approved_by=approved,
            recommendation="remove" if reasons else "keep",
            reasons=reasons or ["active staff, assigned here, signed in recently"])
    return out

