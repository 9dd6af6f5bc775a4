"""Sessions and request authentication: Flask-Login, bearer tokens, CSRF, idle timeout, and the
request boundary that commits once (or rolls back)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

import audit
from edlink import clock
from edlink.errors import api_error
from edlink.extensions import csrf, db, login_manager
from edlink.models import User

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if bearer_token() is not None:
        return None  # a bearer request is authenticated by its token alone
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is not None and session.get("auth_subject") != f"{user.issuer}|{user.subject}":
        return None
    return user


@login_manager.request_loader
def _load_from_request(req) -> User | None:
    token = bearer_token()
    if token is None:
        return None
    from edlink.idp import BearerUnavailable, provider
    from edlink.tokens import TOKEN_PREFIX, user_for_token
    try:
        user = user_for_token(token) if token.startswith(TOKEN_PREFIX) else provider().user_for_bearer(token)
    except BearerUnavailable:
        g.bearer_unavailable = True
        return None
    if user is None:
        g.bearer_invalid = True
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        if getattr(g, "bearer_unavailable", False):
            response = api_error(503, "idp_unavailable", "The identity provider that checks this token "
                                 "is not answering; try again shortly.")
            response.headers["Retry-After"] = "30"
            return response
        if getattr(g, "bearer_invalid", False):
            return api_error(401, "invalid_token", "The bearer token is unknown, expired or revoked.")
        return api_error(401, "unauthenticated", "Sign in, or send Authorization: Bearer <token>.")
    flash("Please sign in to continue.", "info")
    return redirect(url_for("edlink.login", next=request.full_path.rstrip("?")))


def start_session(user: User) -> None:
    from flask_login import login_user
    session.clear()
    session.permanent = True
    session["auth_subject"] = f"{user.issuer}|{user.subject}"
    session["last_seen"] = clock.now().timestamp()
    login_user(user)


def end_session(user: User | None, reason: str = "signed_out") -> None:
    if user is not None and user.is_authenticated:
        audit.record("user.logout", user, user, None, {"reason": reason})
    logout_user()
    session.clear()


def _before_request():
    if request.endpoint in (None, "static", "bootstrap.static"):
        return None
    if bearer_token() is None:
        # session requests: idle timeout, then CSRF on anything unsafe
        last_seen = session.get("last_seen")
        now = clock.now().timestamp()
        idle = g.get("idle_seconds")
        if current_user.is_authenticated and last_seen is not None and now - last_seen > idle:
            end_session(current_user._get_current_object(), "idle_timeout")
            db.session.commit()
            if request.path.startswith("/api/"):
                return api_error(401, "session_expired", "Your session ended after inactivity; sign in again.")
            flash("You were signed out after a period of inactivity.", "warning")
            # come back to the page after signing in; a form post cannot be replayed by a GET,
            # so after one the page it came from is the place to return to
            back = request.full_path.rstrip("?") if request.method == "GET" else _same_site_path(request.referrer)
            return redirect(url_for("edlink.login", next=back) if back else url_for("edlink.login"))
        if current_user.is_authenticated:
            session["last_seen"] = now
        # CSRF protects a signed-in session; an anonymous API call has none to abuse and gets
        # the view's 401 instead (pages still check, so sign-in forms keep their token).
        anonymous_api = request.path.startswith("/api/") and not current_user.is_authenticated
        if request.method not in SAFE_METHODS and not anonymous_api:
            csrf.protect()
    return None


def _same_site_path(url: str | None) -> str | None:
    """The path (and query) of ``url`` when it points at this site, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _after_request(response):
    if not db.session.registry.has():
        return response  # this request never opened a session (nothing to commit)
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    login_manager.login_view = "edlink.login"
    login_manager.session_protection = "basic"

    @app.before_request
    def _idle_setting():
        g.idle_seconds = int(app.config["IDLE_TIMEOUT_MINUTES"]) * 60

    app.before_request(_before_request)
    app.after_request(_after_request)
