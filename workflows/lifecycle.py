"""Joiners, movers and leavers: access follows the staff directory, in the import that changes it.

``edlink.staff.import_staff`` hands every import's changes to ``on_staff_import`` (registered by
``workflows.init_app``) inside the import's transaction, so a file that records a departure also
removes the access: both commit together or neither does. For each changed record that is (or
was last) linked to a user account:

- status → ``terminated`` (a leaver): every active or suspended grant is revoked and every pending
  request cancelled;
- LEA or sites changed (a mover): grants at the orgs the person no longer works at are revoked —
  a grant at the school system stays only when the school system is unchanged, a site grant only
  for a site still assigned, a state grant only for state staff — pending requests there are
  cancelled, and the person is told to request anew at the new location (never carried over);
- ``active`` → ``leave`` (or back to ``pending_hr``): active grants are suspended (cause
  ``hr_status``); back to ``active``: exactly those are restored (a grant suspended for inactivity,
  by a coordinator or for the statement stays suspended; a role needing the statement whose
  signature lapsed meanwhile goes straight to a statement suspension);
- ``terminated`` → ``active`` (a rehire) restores nothing: revocations are final.

Every effect is audited (actor ``system:lifecycle``; details name the import: ``import`` is its
batch id, ``import_event`` the ``staff.imported`` event's sequence number) and notified to the
person (per grant) and to their coordinators (one ``access.changed`` notice per person and cause).
"""
from __future__ import annotations

from collections import Counter

import notifications
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from edlink.orgs import find_org
from edlink.staff import FieldChange, StaffImport
from roles.catalog import load
from roles.grants import revoke
from roles.models import Grant
from workflows import suspension
from workflows.attestation_jobs import statement_lapsed
from workflows.models import AccessRequest
from workflows.requests import withdraw

ACTOR = "system:lifecycle"
PAUSED = ("leave", "pending_hr")
ASSIGNMENT = ("lea_code", "site_codes")


def person_of(record: StaffRecord) -> User | None:
    """The user account whose access follows this record: the one linked now, or the one last
    linked (an import that changes the username ends the link first), unless that account has
    since been linked to another record."""
    link = db.session.execute(db.select(Link).where(Link.staff_record_id == record.id)
                              .order_by(Link.created_at.desc(), Link.id.desc()).limit(1)).scalar_one_or_none()
    if link is None:
        return None
    if link.ended_at is not None:
        current = link.user.active_link
        if current is not None and current.staff_record_id != record.id:
            return None
    return link.user


class _Run:
    """One record's changes in one import."""

    def __init__(self, staff_import: StaffImport, record: StaffRecord, user: User, counts: Counter):
        self.batch, self.record, self.user, self.counts = staff_import.batch, record, user, counts
        who = staff_import.actor.who
        self.base = {"import": staff_import.batch, "import_event": staff_import.event_seq,
                     "imported_by": who if isinstance(who, str) else who.username,
                     "staff_id": record.staff_id}

    def details(self, effect: str) -> dict:
        return {**self.base, "lifecycle": effect}

    def grants(self, *statuses: str) -> list[Grant]:
        return list(db.session.execute(db.select(Grant).where(
            Grant.user_id == self.user.id, Grant.status.in_(statuses)).order_by(Grant.id).with_for_update()
        ).scalars())

    def pending(self) -> list[AccessRequest]:
        return list(db.session.execute(db.select(AccessRequest).where(
            AccessRequest.requester_id == self.user.id, AccessRequest.status == "pending")
            .order_by(AccessRequest.id)).scalars())

    def revoke(self, grants: list[Grant], reason: str, effect: str) -> None:
        for grant in grants:
            revoke(grant, actor=ACTOR, reason=reason, details=self.details(effect))
            suspension.tell_holder(grant, "grant.revoked", reason)
        self.counts["revoked"] += len(grants)

    def cancel(self, requests: list[AccessRequest], reason: str, effect: str) -> int:
        done = sum(withdraw(r, actor=ACTOR, reason=reason, details=self.details(effect)) for r in requests)
        self.counts["requests_cancelled"] += done
        return done


def on_staff_import(staff_import: StaffImport) -> dict[str, int]:
    """The staff-import change listener: apply the lifecycle rules; answer what was done."""
    counts: Counter = Counter()
    fields_of: dict[int, dict[str, FieldChange]] = {}
    records: dict[int, StaffRecord] = {}
    for change in staff_import.changes:
        fields_of.setdefault(change.record.id, {})[change.field] = change
        records[change.record.id] = change.record
    for record_id, fields in fields_of.items():
        if not fields.keys() & {"status", *ASSIGNMENT}:
            continue
        record = records[record_id]
        user = person_of(record)
        if user is None:
            continue
        run = _Run(staff_import, record, user, counts)
        status = fields.get("status")
        if status is not None and status.new == "terminated":
            _leaver(run, status.old, fields)
            continue
        if fields.keys() & set(ASSIGNMENT):
            _mover(run, fields)
        if status is not None and status.old == "active" and status.new in PAUSED:
            _pause(run, status.new)
        elif status is not None and status.old in PAUSED and status.new == "active":
            _resume(run, status.old)
    return {k: v for k, v in counts.items() if v}


def _old_lea(run: _Run, fields: dict[str, FieldChange]) -> Org:
    change = fields.get("lea_code")
    return (find_org(change.old) if change is not None else None) or run.record.lea


def _leaver(run: _Run, old_status: str | None, fields: dict[str, FieldChange]) -> None:
    grants = run.grants("active", "suspended")
    reason = f"left employment: HR status {old_status} → terminated (staff import {run.batch})"
    run.revoke(grants, reason, "leaver")
    cancelled = run.cancel(run.pending(), f"left employment (staff import {run.batch})", "leaver")
    if grants or cancelled:
        suspension.tell_coordinators(
            run.user, run.record, [g.org.lea for g in grants] + [_old_lea(run, fields)],
            "left employment (HR status terminated): all access revoked", grants,
            f"{cancelled} pending request(s) cancelled" if cancelled else "")


def _place(lea: Org | None, site_codes: list[str]) -> str:
    where = lea.name if lea is not None else "no school system"
    return f"{where} ({', '.join(site_codes)})" if site_codes else where


def _mover(run: _Run, fields: dict[str, FieldChange]) -> None:
    record = run.record
    old_lea = _old_lea(run, fields)
    change = fields.get("site_codes")
    old_codes = [c for c in (change.old if change is not None else record.site_codes or "").split(";") if c]
    old_sites = {o.id for o in (find_org(c) for c in old_codes) if o is not None}
    new_sites = {s.id for s in record.sites}

    def was_there(org: Org) -> bool:  # the old assignment: the old school system and its sites
        return org.id == old_lea.id or org.id in old_sites or (org.lea is not None and org.lea.id == old_lea.id)

    def still_there(org: Org) -> bool:  # what the new assignment keeps
        if org.kind == "state":
            return record.lea.kind == "state"
        if org.kind == "lea":
            return org.id == record.lea.id
        return org.id in new_sites

    def gone(org: Org) -> bool:
        return was_there(org) and not still_there(org)

    grants = [g for g in run.grants("active", "suspended") if gone(g.org)]
    reason = (f"moved: no longer works at {{org}} (staff import {run.batch}); access is not carried over, "
              "request it anew at the new location")
    for grant in grants:
        run.revoke([grant], reason.format(org=grant.org.code), "mover")
    cancelled = run.cancel([r for r in run.pending() if gone(r.org)],
                           f"moved: no longer works there (staff import {run.batch})", "mover")
    if not grants and not cancelled:
        return
    catalog = load()
    old_place = _place(old_lea, old_codes)
    new_place = _place(record.lea, [s.code for s in record.sites])
    notifications.notify([run.user], "access.moved", {
        "old_place": old_place, "new_place": new_place,
        "items": "; ".join(f"{catalog.name_of(g.role_code)} at {g.org.code}" for g in grants)}, link="/requests/new")
    suspension.tell_coordinators(
        run.user, record, [old_lea, *(g.org.lea for g in grants)],
        f"moved from {old_place} to {new_place}: access at the old location revoked", grants,
        f"{cancelled} pending request(s) there cancelled" if cancelled else "")


def _pause(run: _Run, status: str) -> None:
    grants = run.grants("active")
    reason = f"HR status {status} (staff import {run.batch}); restored when it is active again"
    for grant in grants:
        suspension.suspend(grant, suspension.HR_STATUS, actor=ACTOR, reason=reason, details=run.details("leave"))
        suspension.tell_holder(grant, "grant.suspended", reason)
    run.counts["suspended"] += len(grants)
    if grants:
        suspension.tell_coordinators(run.user, run.record, [g.org.lea for g in grants],
                                     f"HR status {status}: access suspended until it is active again", grants)


def _resume(run: _Run, status: str) -> None:
    grants = suspension.suspended_for(run.user, suspension.HR_STATUS)
    reason = f"back from {status}: HR status active (staff import {run.batch})"
    catalog = load()
    lapsed = statement_lapsed(run.user)
    restored = []
    for grant in grants:
        suspension.restore(grant, actor=ACTOR, reason=reason,
                           details={**run.details("return"), "suspended_for": suspension.HR_STATUS})
        role = catalog.roles.get(grant.role_code)
        if role is not None and role.requires_statement and lapsed:
            lapse = "confidentiality statement lapsed while away; signing it restores this role"
            suspension.suspend(grant, suspension.STATEMENT, actor=ACTOR, reason=lapse, details=run.details("return"))
            suspension.tell_holder(grant, "grant.suspended", lapse)
            run.counts["suspended"] += 1
            continue
        suspension.tell_holder(grant, "grant.restored", reason)
        restored.append(grant)
    run.counts["restored"] += len(restored)
    if grants:
        suspension.tell_coordinators(run.user, run.record, [g.org.lea for g in grants],
                                     "HR status active again: access suspended for the leave restored", restored)
