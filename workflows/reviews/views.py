"""Review pages: the reviews and their progress, starting one, and a review's worklist with the
decision helpers, filters, paging and bulk decisions (and, for state administrators, closing a
held review). The rules live in the service modules; these only parse, call and render."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from edlink import authz, clock
from edlink.errors import DomainError, settle
from edlink.extensions import db
from edlink.models import Org
from roles.catalog import load
from workflows.reviews import campaign, deadlines, decide, people, queries
from workflows.reviews.models import REVIEW_STATUSES, ReviewItem
from workflows.reviews.settings import setting

bp = Blueprint("reviews", __name__, template_folder="templates")


def _me():
    return current_user._get_current_object()


def _page() -> tuple[int, int]:
    return max(request.args.get("page", 1, type=int) or 1, 1), int(current_app.config["PAGE_SIZE"])


def _startable(user) -> list[tuple[Org, list[str]]]:
    """School systems where the user may start a review, with the applications."""
    leas = db.session.execute(db.select(Org).where(Org.kind == "lea", Org.active.is_(True))
                              .order_by(Org.code)).scalars().all()
    apps = sorted(load().applications)
    out = []
    for lea in leas:
        mine = [a for a in apps if people.may_start(user, lea, a)]
        if mine:
            out.append((lea, mine))
    return out


@bp.route("/reviews")
@login_required
def reviews():
    user = _me()
    page, per_page = _page()
    status = request.args.get("status") or None
    status = status if status in REVIEW_STATUSES else None
    application, org = request.args.get("application") or None, request.args.get("org") or None
    rows, total = queries.find_reviews(user, status, application, org, page, per_page)
    tally = queries.progress([r.id for r in rows])
    return render_template("reviews/reviews.html", rows=rows, total=total, tally=tally, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), status=status, statuses=REVIEW_STATUSES,
                           application=application, org=org, applications=load().applications, now=clock.now(),
                           may_start=bool(_startable(user)), is_admin=people.is_state_admin(user))


@bp.route("/reviews/new", methods=["GET", "POST"])
@login_required
def new_review():
    user = _me()
    choices = _startable(user)
    if not choices:
        return render_template("errors/error.html", status=403, title="Not yours to do",
                               message="Reviews are started by security coordinators and state administrators."), 403
    form = request.form if request.method == "POST" else request.args
    error, status = None, 200
    if request.method == "POST":
        try:
            org = db.session.execute(db.select(Org).where(Org.code == form.get("org", ""))).scalar_one_or_none()
            if org is None:
                raise DomainError("choose_org", "Choose the school system.", status=422)
            review = campaign.start(user, org, form.get("application", ""), form.get("due_in_days") or None)
        except DomainError as exc:
            settle(exc)
            error, status = exc, exc.status
        else:
            flash(f"Review {review.label} started with {len(review.items)} grants; its reviewers have been told.",
                  "success")
            return redirect(url_for("reviews.worklist", review_id=review.id))
    return render_template("reviews/new.html", choices=choices, form=form, error=error,
                           default_days=setting("REVIEW_DUE_DAYS"), applications=load().applications), status


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
@login_required
def worklist(review_id: int):
    user = _me()
    review = queries.get_review(user, review_id)
    results, error, status = [], None, 200
    if request.method == "POST":
        action = request.form.get("action")
        if action in ("certify", "revoke"):
            ids = [i for i in request.form.getlist("item_id") if i.isdigit()]
            if not ids:
                flash("Tick at least one grant, then choose Keep or Remove.", "warning")
            else:
                results = decide.decide_many(user, ids, action, request.form.get("comment"), review_id=review.id)
                db.session.commit()
        elif action == "close":
            try:
                deadlines.close_held(user, review, request.form.get("outcome", ""), request.form.get("comment"))
            except DomainError as exc:
                settle(exc)
                error, status = exc, exc.status
            else:
                db.session.commit()
                flash(f"Review {review.label} closed.", "success")
                return redirect(url_for("reviews.worklist", review_id=review.id))
        review = queries.get_review(user, review_id)
    page, per_page = _page()
    try:
        filters = queries.ItemFilters.parse(request.args, default_state="undecided")
    except DomainError:
        filters = queries.ItemFilters()
    rows, total = queries.find_items(review, filters, page, per_page)
    view = queries.review_view(review, user=user)
    roles = sorted(db.session.execute(db.select(ReviewItem.role_code).where(
        ReviewItem.review_id == review.id).distinct()).scalars())
    return render_template("reviews/worklist.html", review=review, view=view, rows=rows, total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), filters=filters, results=results,
                           states=queries.ITEM_STATES, roles=roles, catalog=load(), now=clock.now(), error=error,
                           is_admin=people.is_state_admin(user), me=user, state_of=queries.item_state), status


@bp.app_template_filter("due_day")
def due_day(value) -> str:
    """A review's deadline as the state's local day it ends (deadlines fall at local midnight)."""
    import datetime as _dt

    from edlink.calendar import calendar
    return calendar().local_day(value - _dt.timedelta(seconds=1)).isoformat()


def init_app(app: Flask) -> None:
    from edlink.views.context import add_nav
    app.register_blueprint(bp)
    add_nav(app, "reviews.reviews", "Access reviews", _sees_reviews, order=42)


def _sees_reviews() -> bool:
    return bool(authz.orgs_with("edlink.review.decide")) or bool(authz.orgs_with("edlink.audit.read"))
