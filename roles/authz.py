"""``POST /api/v1/authz/check`` answered in one statement, before the framework's per-request work.

Other state applications ask the gate over HTTP many times a second. The view in roles/api.py
authenticates the caller through Flask-Login (the token row, then its user), checks the
caller's permission (their grants), looks the subject up and reads the subject's grants: four
queries and a commit. This hook, the first of the app's before-request functions, answers the
common case with one read-only statement instead — the caller's token row, the caller's and the
subject's link, staff status and active grants, and the cache epoch, all as of one instant —
and builds both answers with the gate's own code (roles.access), so the answer is the one the
view would give.

Anything else goes on to the view, which answers it as before: no bearer token or not a
personal API token, a body the view's schema would refuse, a token that is unknown, expired or
revoked or whose user is disabled (401), a caller without ``edlink.authz.check`` (403 and the
``authz.denied`` event), a token whose "last used" is older than its resolution (the view
records it), a username two users share. Nothing is cached across requests: every answer reads
the grants as they are.
"""
from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from sqlalchemy import bindparam, literal_column, null, select, union_all

from edlink import clock
from edlink.extensions import db
from edlink.models import ApiToken
from edlink.tokens import LAST_USED_RESOLUTION, TOKEN_PREFIX
from roles import access, cache
from roles.prepared import Prepared

ENDPOINT = "roles_api.authz_check"
CHECK_PERMISSION = "edlink.authz.check"  # what a caller must hold (the view's too)
_FIELDS = frozenset(("username", "permission", "org"))

_t, _u = ApiToken.__table__, access._u
_CALLER = (select(literal_column("1").label("who"), _u.c.id.label("user_id"), _t.c.revoked_at, _t.c.expires_at,
                  _t.c.last_used_at, *access.COLUMNS, access.EPOCH.label("epoch"))
           .select_from(_t.join(access.FROM, _u.c.id == _t.c.user_id))
           .where(_t.c.token_hash == bindparam("token_hash")))
_SUBJECT = (select(literal_column("2"), _u.c.id, null(), null(), null(), *access.COLUMNS, access.EPOCH)
            .select_from(access.FROM).where(_u.c.username == bindparam("username")))
_BOTH = Prepared(union_all(_CALLER, _SUBJECT))


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, answer)


def answer():
    """The response for an authz check this path can answer; None to let the view answer."""
    if request.endpoint != ENDPOINT:
        return None
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() != "bearer ":
        return None
    token = header[7:].strip()
    body = request.get_json(silent=True) if token.startswith(TOKEN_PREFIX) else None
    if not _well_formed(body):
        return None
    username, permission, org = body["username"], body["permission"], body.get("org")
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    rows = _read({"token_hash": digest, "username": username})
    callers = [row for row in rows if row[0] == 1]
    subjects = [row for row in rows if row[0] == 2]
    if not callers or not _caller_allowed(callers):
        return None
    if len({row[1] for row in subjects}) > 1:
        return None  # a username two users share: the view answers (as it always has)
    if not subjects:
        decision = access.Decision(False, f"No user has the username {username!r}.", "unknown_user")
    else:
        held = [row[5:] for row in subjects]
        decision = access.Access(subjects[0][1], held, cache.snapshot(held[0][-1])).decide(permission, org)
    return current_app.json.response({"allowed": decision.allowed, "reason": decision.reason, "code": decision.code,
                                      "username": username, "permission": permission, "org": org})


def _read(params) -> list[tuple]:
    """The one statement, outside any transaction (one statement sees one instant): on
    PostgreSQL no BEGIN and ROLLBACK round trips, and psycopg keeps the prepared statement."""
    engine = db.engine
    pooled = engine.raw_connection()
    try:
        driver = pooled.driver_connection
        if engine.dialect.name != "postgresql":  # SQLite: a SELECT opens no transaction
            return _BOTH.rows(driver, engine.dialect, params)
        driver.autocommit = True
        try:
            return _BOTH.rows(driver, engine.dialect, params)
        finally:
            driver.autocommit = False
    finally:
        pooled.close()


def _well_formed(body) -> bool:
    """What the view's schema accepts: username and permission strings, an optional org string."""
    return (isinstance(body, dict) and body.keys() <= _FIELDS and isinstance(body.get("username"), str)
            and isinstance(body.get("permission"), str) and isinstance(body.get("org", ""), (str, type(None))))


def _caller_allowed(rows) -> bool:
    """The token is usable, its "last used" needs no update, and its user holds the check."""
    _who, user_id, revoked_at, expires_at, last_used_at = rows[0][:5]
    now = clock.now()
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return False
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        return False
    held = [row[5:] for row in rows]
    return bool(access.Access(user_id, held, cache.snapshot(held[0][-1])).decide(CHECK_PERMISSION, None))
