"""Sign-in and sign-out pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from edlink.auth import end_session, start_session
from edlink.extensions import db
from edlink.forms import EmptyForm, LoginForm
from edlink.idp import SignInError, provider
from edlink.views import bp


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else home. Browsers read a backslash as a
    slash and drop tabs and newlines, so ``/\\evil`` or ``/<TAB>/evil`` would leave the site."""
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and not any(ord(c) < 32 or ord(c) == 127 for c in target)
            and not urlsplit(target).netloc):
        return target
    return url_for("edlink.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    idp = provider()
    if not idp.password_form:
        try:
            return idp.begin_login(next_url)
        except SignInError as exc:
            return _sign_in_problem(exc, next_url)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        outcome = idp.authenticate(form.username.data, form.password.data, request.remote_addr)
        if outcome.ok:
            start_session(outcome.user)
            db.session.commit()
            return redirect(next_url)
        db.session.commit()  # keep the failed attempt: counter and audit event
        form.password.errors.append(outcome.message)
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("edlink/login.html", form=form), status


def _sign_in_problem(exc: SignInError, next_url: str):
    """The sign-in page of an external provider, saying what went wrong (the failure is audited)."""
    db.session.commit()  # keep the user.login_failed event
    return render_template("edlink/login.html", form=None, problem=exc.message,
                           next_url=next_url), exc.status


@bp.route("/login/callback")
def login_callback():
    """Where the identity provider sends the browser back with a code (or an error)."""
    idp = provider()
    if idp.password_form:
        abort(404)
    try:
        result = idp.finish_login(request.args)
    except SignInError as exc:
        return _sign_in_problem(exc, url_for("edlink.home"))
    start_session(result.user)
    session.update(result.session)
    db.session.commit()
    return redirect(safe_next(result.next_url))


@bp.route("/signed-out")
def signed_out():
    """Where the identity provider sends the browser after ending its session too."""
    if provider().password_form or current_user.is_authenticated:
        return redirect(url_for("edlink.login"))
    return render_template("edlink/login.html", form=None, signed_out=True,
                           next_url=url_for("edlink.home"))


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    idp = provider()
    if form.validate_on_submit() and current_user.is_authenticated:
        user = current_user._get_current_object()
        target = idp.logout_url(user)
        end_session(user)
        db.session.commit()
        if target is not None:
            return redirect(target)  # the provider ends its session too, then sends the browser back
        if idp.password_form:
            flash("You are signed out.", "info")
            return redirect(url_for("edlink.login"))
        flash("You are signed out of EdLink. The identity provider could not be reached, so "
              "you may still be signed in there: close the browser to end that session.", "warning")
        return redirect(url_for("edlink.signed_out"))
    return redirect(url_for("edlink.login"))
