"""Home, the account page, linking and personal API tokens."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from edlink import tokens
from edlink.errors import DomainError, settle
from edlink.forms import EmptyForm, LinkForm, TokenForm
from edlink.linking import link_account
from edlink.views import bp


def _me():
    return current_user._get_current_object()


@bp.route("/")
@login_required
def home():
    return render_template("edlink/home.html", link=_me().active_link)


@bp.route("/account")
@login_required
def account():
    return render_template("edlink/account.html", link=_me().active_link,
                           tokens=tokens.list_tokens(_me()), token_form=TokenForm(),
                           revoke_form=EmptyForm())


@bp.route("/account/link", methods=["GET", "POST"])
@login_required
def link():
    form = LinkForm()
    existing = _me().active_link
    status = 200
    if form.validate_on_submit():
        try:
            made = link_account(_me(), form.staff_id.data)
        except DomainError as exc:
            settle(exc)
            form.staff_id.errors.append(exc.message)
            status = exc.status
        else:
            flash(f"Your account is now linked to staff ID {made.staff_record.staff_id}.", "success")
            return redirect(url_for("edlink.account"))
    elif form.errors:
        status = 422
    return render_template("edlink/link.html", form=form, link=existing), status


@bp.route("/account/tokens", methods=["POST"])
@login_required
def token_create():
    form = TokenForm()
    if not form.validate_on_submit():
        return render_template("edlink/account.html", link=_me().active_link,
                               tokens=tokens.list_tokens(_me()), token_form=form,
                               revoke_form=EmptyForm()), 422
    plain, row = tokens.create_token(_me(), form.name.data, form.expires_days.data)
    return render_template("edlink/token_created.html", token=plain, row=row)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    if EmptyForm().validate_on_submit():
        row = tokens.revoke_token(_me(), token_id)
        flash(f"Token “{row.name}” is revoked.", "success")
    return redirect(url_for("edlink.account"))
