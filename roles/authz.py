"""``POST /api/v1/authz/check`` answered in one statement, in front of the framework.

Other state applications ask the gate over HTTP many times a second. The view in roles/api.py
authenticates the caller through Flask-Login (the token row, then its user), checks the
caller's permission (their grants), looks the subject up and reads the subject's grants: four
queries and a commit, after Flask has built the request, opened the cookie session and run the
app's hooks. :class:`LeanCheck`, a WSGI middleware around the app, answers the common case
before any of that, with one read-only statement — the caller's token row, the caller's and
the subject's link, staff status and active grants, and the cache epoch, all as of one instant
— and builds both answers with the gate's own code (roles.access), so the answer is the one the
view would give, byte for byte.

Anything else goes on to the view, which answers it as before: a request with cookies, no
bearer token or not a personal API token, a body that is not JSON or that the view's schema
would refuse, a token that is unknown, expired or revoked or whose user is disabled (401), a
caller without ``edlink.authz.check`` (403 and the ``authz.denied`` event), a token whose
"last used" is older than its resolution (the view records it), a username two users share, or
an error on the lean path (logged). Nothing is cached across requests: every answer reads the
grants as they are.
"""
from __future__ import annotations

import hashlib
import io
import json

from flask import Flask
from sqlalchemy import bindparam, or_, select

from edlink import clock
from edlink.extensions import db
from edlink.models import ApiToken
from edlink.tokens import LAST_USED_RESOLUTION, TOKEN_PREFIX
from roles import access, cache
from roles.prepared import Prepared

ENDPOINT = "roles_api.authz_check"
CHECK_PERMISSION = "edlink.authz.check"  # what a caller must hold (the view's too)
_FIELDS = frozenset(("username", "permission", "org"))
MAX_BODY = 64 * 1024  # a check is a few dozen bytes; anything larger goes to the view

_t, _u = ApiToken.__table__, access._u
_username = bindparam("username")
# One row per (user, active grant) of the token's user and of the user named in the body (one
# user's rows serve both when a caller asks about themselves); no row when the token is unknown.
_BOTH = Prepared(
    select((_u.c.id == _t.c.user_id).label("is_caller"), (_u.c.username == _username).label("is_subject"),
           _t.c.revoked_at, _t.c.expires_at, _t.c.last_used_at, _u.c.id.label("user_id"), *access.COLUMNS,
           access.EPOCH.label("epoch"))
    .select_from(_t.join(access.FROM, or_(_u.c.id == _t.c.user_id, _u.c.username == _username)))
    .where(_t.c.token_hash == bindparam("token_hash")))
_HELD = 6  # where a row's access.COLUMNS (and the epoch) begin


def init_app(app: Flask) -> None:
    app.wsgi_app = LeanCheck(app, app.wsgi_app)


class LeanCheck:
    """WSGI middleware in front of the app: answers the authz checks it can (see the module's
    text) before Flask builds a request, opens the cookie session or runs any hook, and hands
    every other request to the app untouched (a body it read is put back first)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        with app.app_context():
            self.engine = db.engine  # the app's, made by Flask-SQLAlchemy's init_app
        self.path: str | None = None  # the view's URL, read from the URL map on the first request
        self.limit = min(MAX_BODY, app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != (self.path or self._path()):
            return self.wsgi_app(environ, start_response)
        body = _body(environ, self.limit)
        if body is not None:
            try:  # no app context: the path needs only the engine and the catalog's copy
                payload = answer(self.app, self.engine, body, environ.get("HTTP_AUTHORIZATION", ""))
            except Exception:  # the view answers (and reports) whatever went wrong here
                self.app.logger.exception("authz check: the lean path failed; the view answers")
                payload = None
            if payload is not None:
                data = self._json(payload)
                start_response("200 OK", [("Content-Type", self.app.json.mimetype),
                                          ("Content-Length", str(len(data)))])
                return [data]
        return self.wsgi_app(environ, start_response)

    def _json(self, payload: dict) -> bytes:
        """The body Flask's ``app.json.response`` gives (compact unless debugging or told not to),
        without building a response object."""
        provider = self.app.json
        compact = getattr(provider, "compact", None)
        if (compact is None and self.app.debug) or compact is False:
            text = provider.dumps(payload, indent=2)
        else:
            text = provider.dumps(payload, separators=(",", ":"))
        return f"{text}\n".encode()

    def _path(self) -> str:
        self.path = next(rule.rule for rule in self.app.url_map.iter_rules() if rule.endpoint == ENDPOINT)
        return self.path


def _body(environ, limit: int) -> object | None:
    """The JSON body of a request this path may answer (None: the view answers). A request
    carrying cookies goes to the view (its session is the view's business), as does one that is
    not a personal API token's, not JSON, chunked or oversized. What was read is put back."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    if (header[:7].lower() != "bearer " or not header[7:].strip().startswith(TOKEN_PREFIX)
            or "HTTP_COOKIE" in environ or "HTTP_TRANSFER_ENCODING" in environ):
        return None
    mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= limit:
        return None
    stream = environ["wsgi.input"]
    raw = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(raw)  # the view reads it again if it answers
    if len(raw) != length:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def answer(app: Flask, engine, body, header: str) -> dict | None:
    """The answer to an authz check this path can give; None to let the view answer."""
    if not _well_formed(body):
        return None
    username, permission, org = body["username"], body["permission"], body.get("org")
    digest = hashlib.sha256(header[7:].strip().encode("utf-8")).hexdigest()
    rows = _read(engine, {"token_hash": digest, "username": username})
    callers = [row for row in rows if row[0]]
    subjects = [row for row in rows if row[1]]
    if not callers or not _caller_allowed(app, callers):
        return None
    if len({row[5] for row in subjects}) > 1:
        return None  # a username two users share: the view answers (as it always has)
    if not subjects:
        decision = access.Decision(False, f"No user has the username {username!r}.", "unknown_user")
    else:
        held = [row[_HELD:] for row in subjects]
        decision = access.Access(subjects[0][5], held, cache.snapshot_of(app, held[0][-1])).decide(permission, org)
    return {"allowed": decision.allowed, "reason": decision.reason, "code": decision.code,
            "username": username, "permission": permission, "org": org}


def _read(engine, params) -> list[tuple]:
    """The one statement, outside any transaction (one statement sees one instant), on a
    connection of the pool (a failure throws that connection away: it may be broken)."""
    pooled = engine.raw_connection()
    try:
        return _BOTH.rows_idle(pooled.driver_connection, engine.dialect, params)
    except BaseException:
        pooled.invalidate()
        raise
    finally:
        pooled.close()


def _well_formed(body) -> bool:
    """What the view's schema accepts: username and permission strings, an optional org string."""
    return (isinstance(body, dict) and body.keys() <= _FIELDS and isinstance(body.get("username"), str)
            and isinstance(body.get("permission"), str) and isinstance(body.get("org", ""), (str, type(None))))


def _caller_allowed(app: Flask, rows) -> bool:
    """The token is usable, its "last used" needs no update, and its user holds the check."""
    revoked_at, expires_at, last_used_at, user_id = rows[0][2:6]
    now = clock.now()
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return False
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        return False
    held = [row[_HELD:] for row in rows]
    return bool(access.Access(user_id, held, cache.snapshot_of(app, held[0][-1])).decide(CHECK_PERMISSION, None))
