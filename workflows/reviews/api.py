"""Access reviews under /api/v1."""
from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from edlink.api import login_required, me, paging
from edlink.orgs import get_org
from workflows.reviews import campaign, deadlines, decide, queries, report

blp = Blueprint("reviews_api", __name__, url_prefix="/api/v1", description="Access reviews")


class ReviewIn(Schema):
    org = fields.String(required=True, metadata={"description": "the school system's (LEA's) code"})
    application = fields.String(required=True, metadata={"description": "application code: eser or edlink"})
    due_in_days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=366),
                                 metadata={"description": "calendar days until the deadline (default "
                                                          "EDLINK_REVIEW_DUE_DAYS)"})


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("certify", "revoke")))
    comment = fields.String(load_default=None, validate=validate.Length(max=2000))


class BulkDecisionIn(DecisionIn):
    items = fields.List(fields.Integer(), required=True, metadata={"description": "review item ids"})


class CloseIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("keep", "remove", "recommendation")))
    comment = fields.String(load_default=None, validate=validate.Length(max=2000))


@blp.route("/reviews", methods=["POST"])
@login_required
@blp.arguments(ReviewIn)
def post_review(body):
    """Start a review of an application at a school system now (its coordinators, for eSER its
    supervisors too, or a state administrator); answers the review (201)."""
    review = campaign.start(me(), get_org(body["org"]), body["application"], body.get("due_in_days"))
    return queries.review_view(review, user=me()), 201


@blp.route("/reviews", methods=["GET"])
@login_required
def list_reviews():
    """Reviews you may see, held first, then open by due date, then closed; filters ``status``
    (open, held, closed), ``application``, ``org``; ``page``, ``per_page``. Each with its progress."""
    page, per_page = paging()
    args = request.args
    rows, total = queries.find_reviews(me(), args.get("status") or None, args.get("application") or None,
                                       args.get("org") or None, page, per_page)
    tally = queries.progress([r.id for r in rows])
    return {"total": total, "page": page, "per_page": per_page,
            "reviews": [queries.review_view(r, tally[r.id], me()) for r in rows]}


@blp.route("/reviews/<int:review_id>", methods=["GET"])
@login_required
def get_review(review_id: int):
    return queries.review_view(queries.get_review(me(), review_id), user=me())


@blp.route("/reviews/<int:review_id>/items", methods=["GET"])
@login_required
def list_items(review_id: int):
    """The review's items with their decision helpers. ``state`` = all (default), undecided,
    certified, revoked, ended; ``role``, ``org`` (the grant's org code), ``person`` (name, username,
    staff ID or employee number), ``recommendation`` (keep, remove); ``page``, ``per_page``."""
    review = queries.get_review(me(), review_id)
    page, per_page = paging()
    filters = queries.ItemFilters.parse(request.args, default_state="all")
    rows, total = queries.find_items(review, filters, page, per_page)
    return {"review": queries.review_view(review, user=me()), "total": total, "page": page, "per_page": per_page,
            "items": [queries.item_view(item, advice) for item, advice in rows]}


@blp.route("/reviews/items/<int:item_id>/decision", methods=["POST"])
@login_required
@blp.arguments(DecisionIn)
def post_decision(body, item_id: int):
    """Certify (keep) or revoke (remove) one item; a revocation takes effect at once."""
    item = decide.decide(me(), item_id, body["decision"], body.get("comment"))
    return queries.item_view(item, None)


@blp.route("/reviews/<int:review_id>/decisions", methods=["POST"])
@login_required
@blp.arguments(BulkDecisionIn)
def post_decisions(body, review_id: int):
    """The same decision for several items of a review, with a result per item."""
    queries.get_review(me(), review_id)
    results = decide.decide_many(me(), body["items"], body["decision"], body.get("comment"), review_id=review_id)
    return {"results": [r.as_dict() for r in results], "decided": sum(1 for r in results if r.ok)}


@blp.route("/reviews/<int:review_id>/close", methods=["POST"])
@login_required
@blp.arguments(CloseIn)
def close_review(body, review_id: int):
    """A state administrator closes a held review, choosing the outcome for the undecided items."""
    review = deadlines.close_held(me(), queries.get_review(me(), review_id), body["outcome"], body.get("comment"))
    return queries.review_view(review, user=me())


@blp.route("/reviews/<int:review_id>/report", methods=["GET"])
@login_required
def get_report(review_id: int):
    """The review report: ``format=csv`` (default) or ``xlsx``."""
    review = queries.get_review(me(), review_id)
    name, mimetype, body = report.build(me(), review, request.args.get("format"))
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Cache-Control": "no-store"})
