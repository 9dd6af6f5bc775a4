"""Personal API tokens: shown once, stored as SHA-256, with an expiry, revocable, audited."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.orm import joinedload

import audit
from edlink import clock
from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import ApiToken, User

LAST_USED_RESOLUTION = timedelta(minutes=1)

TOKEN_PREFIX = "edl_"
DEFAULT_DAYS = 90
MAX_DAYS = 366


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str = "", expires_days: int | None = DEFAULT_DAYS,
                 actor=None) -> tuple[str, ApiToken]:
    """Make a token for ``user``; returns the plain token (never stored) and its row."""
    name = (name or "").strip() or "API token"
    if len(name) > 100:
        raise Invalid("invalid_name", "A token name is at most 100 characters.")
    if expires_days is None or not 1 <= int(expires_days) <= MAX_DAYS:
        raise Invalid("invalid_expiry", f"A token expires after 1 to {MAX_DAYS} days.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=plain[:12], token_hash=_digest(plain),
                   created_at=clock.now(), expires_at=clock.now() + timedelta(days=int(expires_days)))
    db.session.add(row)
    db.session.flush()
    audit.record("token.created", actor if actor is not None else user, row, None,
                 {"user": user.username, "name": name, "expires_at": row.expires_at})
    return plain, row


def user_for_token(plain: str) -> User | None:
    """The user a presented token belongs to, or None when it is unknown, expired or revoked."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    row = db.session.execute(db.select(ApiToken).options(joinedload(ApiToken.user))
                             .where(ApiToken.token_hash == _digest(plain))).scalar_one_or_none()
    now = clock.now()
    if row is None or not row.usable_at(now) or row.user.disabled:
        return None
    # "last used" to the minute is enough, and keeps most token calls read-only (no write, no
    # commit contention between workers)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row.user


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.execute(db.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc())).scalars())


def revoke_token(user: User, token_id: int, actor=None) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("unknown_token", "You have no token with that id.")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit.record("token.revoked", actor if actor is not None else user, row, None,
                     {"user": user.username, "name": row.name})
    return row
