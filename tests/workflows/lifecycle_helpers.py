"""Shared helpers for the lifecycle tests: HR rows from the demo staff, grants, events, notices."""
from __future__ import annotations

from audit.models import AuditEvent
from edlink.demo import STAFF
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.staff import STAFF_COLUMNS, Actor, import_staff
from edlink.users import get_user
from notifications.models import Notification
from roles.grants import create_grant
from roles.models import Grant

HEADER = ",".join(STAFF_COLUMNS) + "\n"
TEACHER = "1000000002"  # demo "teacher": LEA 101, site 101002, linked


def row(staff_id: str, **changes: str) -> str:
    """A demo staff row as the demo loads it, with some columns changed."""
    sid, emp, first, last, lea, sites, kind, status, username = next(s for s in STAFF if s[0] == staff_id)
    values = {"staff_id": sid, "employee_number": emp, "first_name": first, "last_name": last,
              "email": f"{username or sid}@demo.example", "lea_code": lea, "site_codes": sites,
              "staff_type": kind, "status": status, "username": username}
    values.update(changes)
    return ",".join(values[c] for c in STAFF_COLUMNS)


def csv(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def hr_import(*rows: str, commit: bool = True):
    result = import_staff(csv(*rows), Actor("system:test", "cli"))
    if commit:
        db.session.commit()
    return result


def grant(username: str, role: str, org: str, **kwargs) -> Grant:
    made = create_grant(get_user(username), role, get_org(org), source="demo", granted_by=None,
                        actor="system:test", **kwargs)
    db.session.commit()
    return made


def status(g: Grant) -> str:
    db.session.expire_all()
    return db.session.get(Grant, g.id).status


def events(action: str, **details) -> list[AuditEvent]:
    rows = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).scalars().all()
    return [e for e in rows if all((e.details or {}).get(k) == v for k, v in details.items())]


def grant_events(g: Grant, action: str) -> list[AuditEvent]:
    return [e for e in events(action) if e.target_type == "grant" and e.target_id == str(g.id)]


def notices(username: str, event: str) -> list[Notification]:
    return list(db.session.execute(db.select(Notification).where(
        Notification.user_id == get_user(username).id, Notification.event == event)
        .order_by(Notification.id)).scalars())
