"""Sign-in and sign-out pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from edlink.auth import end_session, start_session
from edlink.extensions import db
from edlink.forms import EmptyForm, LoginForm
from edlink.idp import provider
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
        return idp.begin_login(next_url)
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


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        user = current_user._get_current_object()
        target = provider().logout_url(user)
        end_session(user)
        db.session.commit()
        flash("You are signed out.", "info")
        return redirect(target or url_for("edlink.login"))
    return redirect(url_for("edlink.login"))
