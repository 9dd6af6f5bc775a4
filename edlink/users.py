"""Users of the identity providers, and the built-in provider's passwords and lock-out."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

import audit
from edlink import clock
from edlink.errors import Conflict, Invalid, NotFound
from edlink.extensions import db, savepoint
from edlink.models import LocalCredential, User

LOCAL_ISSUER = "local"
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("edlink-timing-equaliser")


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_local_user(username: str) -> User | None:
    return db.session.execute(db.select(User).where(
        User.issuer == LOCAL_ISSUER, func.lower(User.username) == normalise_username(username))
    ).scalar_one_or_none()


def get_user(username: str) -> User:
    user = db.session.execute(db.select(User).where(
        func.lower(User.username) == normalise_username(username)).order_by(User.id)).scalars().first()
    if user is None:
        raise NotFound("unknown_user", f"No user has the username {username!r}.")
    return user


def create_local_user(username: str, password: str, *, email: str | None = None,
                      name: str | None = None, actor="system:cli") -> User:
    username = (username or "").strip()
    if not username or len(username) > 150 or any(c.isspace() for c in username):
        raise Invalid("invalid_username", "A username is 1 to 150 characters with no spaces.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid("weak_password", f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if find_local_user(username) is not None:
        raise Conflict("username_taken", f"The username {username!r} is already taken.")
    user = User(issuer=LOCAL_ISSUER, subject=uuid.uuid4().hex, username=username,
                display_name=(name or username).strip(), email=(email or None))
    user.credential = LocalCredential(password_hash=_hasher.hash(password), changed_at=clock.now())
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor, user, None, {"username": username, "issuer": LOCAL_ISSUER})
    return user


@dataclass
class LoginOutcome:
    user: User | None
    code: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.user is not None


GENERIC_FAILURE = "The username or password is not right."


def authenticate_local(username: str, password: str, *, remote_addr: str | None = None) -> LoginOutcome:
    """Check a password. Failures are counted and audited; enough of them lock the account.

    Returns an outcome rather than raising, because a failed attempt is itself a change to keep
    (the counter and the ``user.login_failed`` event) and the caller commits it.
    """
    now = clock.now()
    cfg = current_app.config
    user = find_local_user(username)
    details = {"username": (username or "").strip()[:150], "remote_addr": remote_addr}
    if user is None or user.credential is None:
        try:
            _hasher.verify(_DUMMY_HASH, password or "x")  # same cost as a real check
        except VerificationError:
            pass
        audit.record("user.login_failed", None, None, None, {**details, "reason": "unknown_user"})
        return LoginOutcome(None, "login_failed", GENERIC_FAILURE)
    cred = user.credential
    if cred.locked_until is not None and cred.locked_until > now:
        audit.record("user.login_failed", None, user, None, {**details, "reason": "locked"})
        until = cred.locked_until.strftime("%H:%M UTC")
        return LoginOutcome(None, "account_locked",
                            f"Too many failed sign-ins: this account is locked until {until}.")
    try:
        _hasher.verify(cred.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        cred.failed_logins += 1
        locked = cred.failed_logins >= int(cfg["LOGIN_MAX_FAILURES"])
        if locked:
            cred.locked_until = now + timedelta(minutes=int(cfg["LOGIN_LOCKOUT_MINUTES"]))
            cred.failed_logins = 0
        audit.record("user.login_failed", None, user, None,
                     {**details, "reason": "bad_password", "locked": locked})
        if locked:
            until = cred.locked_until.strftime("%H:%M UTC")
            return LoginOutcome(None, "account_locked",
                                f"Too many failed sign-ins: this account is locked until {until}.")
        return LoginOutcome(None, "login_failed", GENERIC_FAILURE)
    if user.disabled:
        audit.record("user.login_failed", None, user, None, {**details, "reason": "disabled"})
        return LoginOutcome(None, "account_disabled", "This account is disabled.")
    if _hasher.check_needs_rehash(cred.password_hash):
        cred.password_hash = _hasher.hash(password)
    cred.failed_logins, cred.locked_until = 0, None
    record_login(user, remote_addr)
    return LoginOutcome(user)


def record_login(user: User, remote_addr: str | None = None) -> None:
    user.last_login_at = clock.now()
    audit.record("user.login", user, user, None, {"issuer": user.issuer, "remote_addr": remote_addr})


def set_password(user: User, password: str, actor="system:cli") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid("weak_password", f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if user.credential is None:
        user.credential = LocalCredential(password_hash=_hasher.hash(password))
    else:
        user.credential.password_hash = _hasher.hash(password)
        user.credential.failed_logins, user.credential.locked_until = 0, None
    user.credential.changed_at = clock.now()
    audit.record("user.password_set", actor, user, None, {})


# --- users of an external provider (Keycloak) ----------------------------------------------------

IDP_ACTOR = "system:idp"


def find_provider_user(issuer: str, subject: str) -> User | None:
    return db.session.execute(db.select(User).where(
        User.issuer == issuer, User.subject == subject)).scalar_one_or_none()


def sync_provider_user(issuer: str, claims: dict) -> User:
    """The user a verified token names, keyed by (issuer, ``sub``): created the first time, then
    kept as the provider has them (``preferred_username``, name, e-mail).

    A changed username is recorded (``user.username_changed``); a link to a staff record whose
    username no longer matches ends, as it does when the data manager changes the record's side.
    """
    subject = str(claims.get("sub") or "").strip()
    username = str(claims.get("preferred_username") or "").strip()
    if not subject or len(subject) > 255:
        raise Invalid("missing_subject", "The identity provider named no subject.")
    if not username or len(username) > 150 or any(c.isspace() for c in username):
        raise Invalid("missing_username", "Your identity account has no usable username "
                      "(1 to 150 characters, no spaces), so EdLink cannot sign you in.")
    given = " ".join(str(claims.get(k) or "").strip() for k in ("given_name", "family_name")).strip()
    name = (str(claims.get("name") or "").strip() or given or username)[:200]
    email = str(claims.get("email") or "").strip()[:254] or None
    user = find_provider_user(issuer, subject)
    if user is None:
        user = User(issuer=issuer, subject=subject, username=username, display_name=name, email=email)
        try:
            with savepoint():
                db.session.add(user)
                db.session.flush()
        except IntegrityError:  # created by a request running alongside this one
            if db.session.get_bind().dialect.name != "postgresql":
                raise
            user = find_provider_user(issuer, subject)
            if user is None:
                raise
        else:
            audit.record("user.created", IDP_ACTOR, user, None, {"username": username, "issuer": issuer})
            return user
    if user.username != username:
        before, user.username = user.username, username
        audit.record("user.username_changed", IDP_ACTOR, user, None,
                     {"from": before, "to": username, "issuer": issuer})
        _end_link_if_username_differs(user)
    if user.display_name != name:
        user.display_name = name
    if email and user.email != email:
        user.email = email
    return user


def _end_link_if_username_differs(user: User) -> None:
    from edlink.staff import end_link_for_record, username_key
    link = user.active_link
    if link is not None and link.staff_record.username_key != username_key(user.username):
        end_link_for_record(link.staff_record, IDP_ACTOR, "the username changed at the identity provider")


def record_login_failure(reason: str, details: dict, user: User | None = None) -> None:
    """A sign-in at an external provider that did not end with a verified, enabled person."""
    audit.record("user.login_failed", None, user, None, {**details, "reason": reason})
