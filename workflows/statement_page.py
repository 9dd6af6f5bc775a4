"""The confidentiality statement page's rules: what a person sees (their signature, when it
lapses, the roles that need it) and what a POST does (sign, or publish a new version)."""
from __future__ import annotations

from edlink import authz, clock
from edlink.errors import Forbidden
from edlink.extensions import db
from edlink.models import User
from roles.catalog import load
from roles.models import Grant
from workflows import attestation_jobs, attestations, suspension
from workflows.models import Statement

PUBLISH = "edlink.catalog.manage"  # state administrators


def may_publish(user: User) -> bool:
    return bool(authz.can(user, PUBLISH))


def handle_post(user: User, form, remote_addr: str | None) -> str:
    """Sign the current version, or (state administrators) publish a new one; answers the flash."""
    if form.get("action", "sign") == "publish":
        if not may_publish(user):
            raise Forbidden("forbidden", "Only state administrators publish the confidentiality statement.")
        made = attestations.publish(form.get("version", ""), form.get("title", ""), form.get("text", ""), user)
        return (f"Version {made.version} is published. Requests for roles that need the statement now need "
                "a signature of this version; access already held lasts until the holder's last signature "
                "is a year old.")
    waiting = len(suspension.suspended_for(user, suspension.STATEMENT))
    signed = attestations.sign(user, form.get("statement_version", ""), remote_addr)  # restores them
    note = f" {waiting} suspended role(s) that need it are restored." if waiting else ""
    return f"Thank you: your signature of version {signed.statement_version} is recorded.{note}"


def _needing(user: User) -> list[Grant]:
    roles = attestation_jobs.statement_roles()
    if not roles:
        return []
    return list(db.session.execute(db.select(Grant).where(
        Grant.user_id == user.id, Grant.role_code.in_(roles), Grant.status.in_(("active", "suspended")))
        .order_by(Grant.id)).scalars())


def page_context(user: User) -> dict:
    signed = attestations.last_signature(user)
    needing = _needing(user)
    why = suspension.causes(needing)
    return {"statement": attestations.current_statement(), "signed": signed,
            "current": attestations.is_current(user), "lapses_at": attestation_jobs.lapses_at(signed),
            "lapsed": attestation_jobs.statement_lapsed(user), "now": clock.now(), "catalog": load(),
            "needing": [(g, why.get(g.id)) for g in needing], "may_publish": may_publish(user),
            "versions": db.session.execute(db.select(Statement).order_by(Statement.published_at.desc(),
                                                                         Statement.id.desc())).scalars().all()
            if may_publish(user) else []}
