"""Revocation: a coordinator removes a grant in their scope, a holder gives up their own, and
bulk revocation of former employees by employee number (the MiSiS batch form).

Every revocation is one ``grant.revoked`` event (roles.grants) and a notice to the holder, in
the caller's transaction. A bulk run is one transaction: it reports per employee number what
was revoked or why nothing was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import notifications
from edlink.errors import Forbidden, Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, StaffRecord, User
from roles import gate
from roles.catalog import load
from roles.grants import lock, revoke
from roles.models import Grant

REVOKE = "edlink.grant.revoke"
MAX_BULK = 5000
EMPLOYEE_NUMBER = re.compile(r"^\d{8}$")


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", "Say why the access is removed; the holder is told and it is kept "
                                         "in the audit trail.", fields={"reason": ["A reason is required."]})
    if len(reason) > 2000:
        raise Invalid("reason_too_long", "Keep the reason under 2,000 characters.",
                      fields={"reason": ["too long"]})
    return reason


def _tell_holder(grant: Grant, actor: User | None, reason: str) -> None:
    notifications.notify([grant.user], "grant.revoked",
                         {"role": load().name_of(grant.role_code), "org": grant.org.name, "reason": reason,
                          "decided_by": (actor.display_name or actor.username) if actor else None},
                         link="/access")


def revoke_grant(actor: User, grant_id: int, reason: str | None) -> Grant:
    """Revoke a grant: a coordinator (``edlink.grant.revoke`` at the grant's org) with a
    reason, or the holder giving up their own (reason optional)."""
    grant = lock(grant_id)
    may_revoke = grant is not None and gate.can(actor, REVOKE, grant.org)
    if grant is not None and grant.user_id == actor.id and not may_revoke:
        return give_up(actor, grant_id, reason)
    if grant is None or not (may_revoke or gate.can(actor, "edlink.audit.read", grant.org)):
        raise NotFound("unknown_grant", f"No grant {grant_id} is visible to you.")
    gate.require(actor, REVOKE, grant.org)  # auditors see it but may not revoke: 403
    reason = _reason(reason)
    revoke(grant, actor=actor, reason=reason)
    _tell_holder(grant, actor, reason)
    return grant


def give_up(user: User, grant_id: int, reason: str | None = None) -> Grant:
    """The holder gives up their own grant (the reason is optional)."""
    reason = (reason or "").strip() or "given up by the holder"
    grant = lock(grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound("unknown_grant", f"You hold no grant {grant_id}.")
    revoke(grant, actor=user, reason=reason, details={"given_up": True})
    _tell_holder(grant, user, reason)
    return grant


@dataclass
class BulkLine:
    employee_number: str
    outcome: str                     # revoked | nothing | refused
    message: str
    revoked: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"employee_number": self.employee_number, "outcome": self.outcome,
                "message": self.message, "revoked": self.revoked}


def parse_numbers(text_or_list) -> list[str]:
    """Employee numbers from a list, or from text separated by commas, spaces or new lines."""
    if isinstance(text_or_list, str):
        items = re.split(r"[\s,;]+", text_or_list)
    else:
        items = [str(x) for x in (text_or_list or [])]
    seen, out = set(), []
    for item in (i.strip() for i in items):
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def bulk_revoke(actor: User, employee_numbers, reason: str | None) -> list[BulkLine]:
    """Revoke every grant of the people with these employee numbers at orgs in the caller's
    scope. One line per number: revoked (which grants), nothing (and why), refused (and why)."""
    reason = _reason(reason)
    numbers = parse_numbers(employee_numbers)
    if not numbers:
        raise Invalid("no_employee_numbers", "Give at least one employee number (8 digits).",
                      fields={"employee_numbers": ["empty"]})
    if len(numbers) > MAX_BULK:
        raise Invalid("too_many", f"At most {MAX_BULK:,} employee numbers at a time; split the list.",
                      fields={"employee_numbers": ["too many"]})
    scope = gate.orgs_with(actor, REVOKE)
    if not scope:
        raise Forbidden("forbidden", "You may not revoke access in any school system.")
    catalog = load()
    lines: list[BulkLine] = []
    for number in numbers:
        if not EMPLOYEE_NUMBER.match(number):
            lines.append(BulkLine(number, "refused", "not an employee number (8 digits)"))
            continue
        records = db.session.execute(
            db.select(StaffRecord).where(StaffRecord.employee_number == number)).scalars().all()
        if not records:
            lines.append(BulkLine(number, "refused", "no staff record has this employee number"))
            continue
        if not any(r.lea_id in scope for r in records):
            lines.append(BulkLine(number, "refused", "this person's staff record is outside your scope"))
            continue
        user_ids = db.session.execute(db.select(Link.user_id).where(
            Link.staff_record_id.in_([r.id for r in records]))).scalars().all()
        grants = db.session.execute(db.select(Grant).where(
            Grant.user_id.in_(set(user_ids) or {-1}), Grant.status.in_(("active", "suspended")))
            .order_by(Grant.id).with_for_update()).scalars().all() if user_ids else []
        mine = [g for g in grants if g.org_id in scope]
        elsewhere = len(grants) - len(mine)
        if not user_ids:
            lines.append(BulkLine(number, "nothing", "never linked to a user account: no access to remove"))
            continue
        if not mine:
            lines.append(BulkLine(number, "nothing", "no active access in your scope" +
                                  (f" ({elsewhere} elsewhere, for their coordinators)" if elsewhere else "")))
            continue
        done = []
        for grant in mine:
            revoke(grant, actor=actor, reason=reason, details={"bulk": True, "employee_number": number})
            _tell_holder(grant, actor, reason)
            done.append({"grant": grant.id, "role": grant.role_code, "role_name": catalog.name_of(grant.role_code),
                         "org": grant.org.code, "user": grant.user.username})
        lines.append(BulkLine(number, "revoked", f"revoked {len(done)}" +
                              (f"; {elsewhere} outside your scope left for their coordinators" if elsewhere else ""),
                              done))
    return lines
