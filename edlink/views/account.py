"""Home, the account page, linking and personal API tokens."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from edlink import clock, tokens
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


def _account_page(token_form: TokenForm) -> str:
    return render_template("edlink/account.html", link=_me().active_link,
                           tokens=tokens.list_tokens(_me()), token_form=token_form,
                           revoke_form=EmptyForm(), now=clock.now())


@bp.route("/account")
@login_required
def account():
    return _account_page(TokenForm())


def _link_attempted(form: LinkForm) -> bool:
    """Whatever staff ID was submitted is an attempt for the linking rule to judge (and audit,
    and count towards the rate limit), as the API does: the form's own checks on the field
    (required, length) must not turn an attempt into an unrecorded one."""
    if not form.is_submitted():
        return False
    if form.validate():
        return True
    if set(form.errors) == {"staff_id"}:
        form.staff_id.errors = []  # the service's refusal is the one message shown
        return True
    return False


@bp.route("/account/link", methods=["GET", "POST"])
@login_required
def link():
    form = LinkForm()
    existing = _me().active_link
    status = 200
    if _link_attempted(form):
        try:
            made = link_account(_me(), form.staff_id.data or "")
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
        return _account_page(form), 422
    plain, row = tokens.create_token(_me(), form.name.data, form.expires_days.data)
    # shown once: the page holding the secret must not be kept by the browser or a proxy
    response = make_response(render_template("edlink/token_created.html", token=plain, row=row))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    if EmptyForm().validate_on_submit():
        row = tokens.revoke_token(_me(), token_id)
        flash(f"Token “{row.name}” is revoked.", "success")
    return redirect(url_for("edlink.account"))
