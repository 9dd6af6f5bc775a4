"""The confidentiality statement: published versions and people's signatures.

A signature is current when it is of the current (latest published) version and less than 365
days old. Roles marked ``requires_statement`` in the catalog need a current signature to be
requested and approved; their grants are suspended when the holder's last signature is a year
old and restored when they sign again (workflows.attestation_jobs).
"""
from __future__ import annotations

import datetime as _dt

import audit
from edlink import clock
from edlink.errors import Conflict, Invalid, NotFound
from edlink.extensions import db
from edlink.models import User
from workflows.models import Attestation, Statement

VALID_DAYS = 365


def current_statement() -> Statement | None:
    return db.session.execute(db.select(Statement).order_by(Statement.published_at.desc(), Statement.id.desc())
                              ).scalars().first()


def publish(version: str, title: str, text: str, by: User | None, actor=None) -> Statement:
    version, title, text = (version or "").strip(), (title or "").strip(), (text or "").strip()
    problems = {k: ["required"] for k, v in (("version", version), ("title", title), ("text", text)) if not v}
    if problems:
        raise Invalid("statement_incomplete", "A statement needs a version, a title and its text.", fields=problems)
    if db.session.execute(db.select(Statement.id).where(Statement.version == version)).first():
        raise Conflict("statement_version_exists", f"Version {version} has already been published.")
    statement = Statement(version=version, title=title, text=text, published_at=clock.now(),
                          published_by_id=by.id if by else None)
    db.session.add(statement)
    db.session.flush()
    audit.record("statement.published", actor if actor is not None else by, ("statement", version), None,
                 {"version": version, "title": title})
    return statement


def last_signature(user: User) -> Attestation | None:
    return db.session.execute(db.select(Attestation).where(Attestation.user_id == user.id)
                              .order_by(Attestation.signed_at.desc(), Attestation.id.desc())).scalars().first()


def is_current(user: User, at: _dt.datetime | None = None) -> bool:
    statement = current_statement()
    signed = last_signature(user)
    if statement is None or signed is None or signed.statement_version != statement.version:
        return False
    return (at or clock.now()) - signed.signed_at < _dt.timedelta(days=VALID_DAYS)


def sign(user: User, version: str, source_addr: str | None = None) -> Attestation:
    """Sign the current statement; ``version`` must name it (the text the person read)."""
    statement = current_statement()
    if statement is None:
        raise NotFound("no_statement", "No confidentiality statement has been published yet.")
    if (version or "").strip() != statement.version:
        raise Conflict("statement_version_stale", f"The current statement is version {statement.version}; "
                       "read it and sign that version.")
    signature = Attestation(user_id=user.id, statement_version=statement.version, signed_at=clock.now(),
                            source_addr=source_addr)
    db.session.add(signature)
    db.session.flush()
    audit.record("attestation.signed", user, user, None,
                 {"version": statement.version, "source_addr": source_addr})
    from workflows.attestation_jobs import restore_signed
    restore_signed(user, signature)  # what the statement's lapse suspended comes back at once
    return signature
