"""The yearly confidentiality statement over time: reminders, lapse, and restoring on signing.

``attestations.lapse`` (a scheduled job, idempotent, as of ``clock.now()``): for everyone holding
an active grant of a role that ``requires_statement``, a signature more than 365 days old (or
none at all) suspends exactly those grants (cause ``statement``, one ``attestation.lapsed`` event
and notice per person); before that, ``attestation.due`` reminders go out
``EDLINK_STATEMENT_REMINDER_DAYS`` before the lapse (default 30 and 7 days), each once.
Signing again restores the grants the lapse suspended, in the signing transaction
(``attestations.sign`` calls ``restore_signed``).

The lapse follows the age of the last signature, whatever version it signed; requesting or
approving such a role needs a signature of the current version (``attestations.is_current``).
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app

import audit
import notifications
from edlink import clock
from edlink.extensions import db
from edlink.models import User
from notifications.models import Notification
from roles.catalog import load
from roles.models import Grant
from workflows import attestations, suspension
from workflows.models import Attestation

ACTOR = "system:attestations.lapse"


def statement_roles() -> list[str]:
    return sorted(code for code, role in load().roles.items() if role.requires_statement)


def lapses_at(signature: Attestation | None) -> _dt.datetime | None:
    """When a signature stops counting (None: never signed, so nothing to count)."""
    if signature is None:
        return None
    return signature.signed_at + _dt.timedelta(days=attestations.VALID_DAYS)


def statement_lapsed(user: User, at: _dt.datetime | None = None) -> bool:
    """No signature, or the last one is 365 days old or more."""
    ends = lapses_at(attestations.last_signature(user))
    return ends is None or ends <= (at or clock.now())


def reminder_days() -> list[int]:
    return list(current_app.config["STATEMENT_REMINDER_DAYS"])  # checked by workflows.init_app


def _reminded_since(user: User, since: _dt.datetime) -> bool:
    return db.session.execute(db.select(Notification.id).where(
        Notification.user_id == user.id, Notification.event == "attestation.due",
        Notification.created_at >= since).limit(1)).first() is not None


def _remind(user: User, lapses: _dt.datetime, now: _dt.datetime) -> bool:
    """Send the reminder whose point (``lapses`` minus N days) has passed, unless it was sent:
    one reminder per point, and only the latest point when the job missed earlier ones."""
    points = [lapses - _dt.timedelta(days=d) for d in reminder_days()]
    passed = [p for p in points if p <= now]
    if not passed or _reminded_since(user, max(passed)):
        return False
    statement = attestations.current_statement()
    notifications.notify([user], "attestation.due", {"statement_version": statement.version if statement else None},
                         link="/statement", due_at=lapses)
    return True


def _lapse(user: User, grants: list[Grant], signature: Attestation | None) -> None:
    catalog = load()
    since = f"last signed {signature.signed_at:%Y-%m-%d}" if signature else "never signed"
    reason = f"confidentiality statement lapsed ({since}); signing it restores this role"
    for grant in grants:
        suspension.suspend(grant, suspension.STATEMENT, actor=ACTOR, reason=reason,
                           details={"last_signed_at": signature.signed_at if signature else None})
    audit.record("attestation.lapsed", ACTOR, user, None,
                 {"user": user.username, "last_signed_at": signature.signed_at if signature else None,
                  "last_version": signature.statement_version if signature else None,
                  "grants": [g.id for g in grants]})
    notifications.notify([user], "attestation.lapsed",
                         {"roles": ", ".join(sorted({f"{catalog.name_of(g.role_code)} at {g.org.code}"
                                                     for g in grants}))}, link="/statement")


def run() -> dict:
    """The ``attestations.lapse`` job: reminders and suspensions as of now (idempotent)."""
    now = clock.now()
    roles = statement_roles()
    grants = db.session.execute(db.select(Grant).where(Grant.status == "active", Grant.role_code.in_(roles))
                                .order_by(Grant.user_id, Grant.id).with_for_update(skip_locked=True)
                                ).scalars().all() if roles else []
    by_user: dict[int, list[Grant]] = {}
    for grant in grants:
        by_user.setdefault(grant.user_id, []).append(grant)
    last_signed = dict(db.session.execute(
        db.select(Attestation.user_id, db.func.max(Attestation.signed_at))
        .where(Attestation.user_id.in_(list(by_user))).group_by(Attestation.user_id)).all()) if by_user else {}
    lapsed = suspended = reminded = 0
    for user_id, held in by_user.items():
        signed_at = last_signed.get(user_id)
        ends = signed_at + _dt.timedelta(days=attestations.VALID_DAYS) if signed_at is not None else None
        if ends is None or ends <= now:
            user = held[0].user
            _lapse(user, held, attestations.last_signature(user))
            lapsed, suspended = lapsed + 1, suspended + len(held)
        elif ends - now <= _dt.timedelta(days=max(reminder_days(), default=0)) and _remind(held[0].user, ends, now):
            reminded += 1
    return {"lapsed": lapsed, "suspended": suspended, "reminded": reminded}


def restore_signed(user: User, signature: Attestation) -> list[Grant]:
    """Signing restores the grants the statement's lapse suspended (the holder is told)."""
    restored = []
    for grant in suspension.suspended_for(user, suspension.STATEMENT):
        reason = f"confidentiality statement signed (version {signature.statement_version})"
        suspension.restore(grant, actor=user, reason=reason, details={"suspended_for": suspension.STATEMENT})
        suspension.tell_holder(grant, "grant.restored", reason)
        restored.append(grant)
    return restored
