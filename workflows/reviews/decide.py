"""Deciding review items: certify (keep) or revoke (remove), one at a time or in bulk, and
settling the undecided ones when a review closes.

A revocation is ``roles.grants.revoke`` with the review named in the reason, in the same
transaction as the decision and its ``review.decided`` event, and the holder is told. Nobody
decides an item about their own grant. While a review is open its reviewers and the state
administrators decide; once it is held at its deadline, only the state administrators.
Every check runs before anything is written, so a refused item in a bulk run leaves nothing behind.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import audit
from edlink import clock
from edlink.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from edlink.extensions import db, savepoint
from edlink.models import User
from roles.grants import lock as lock_grant
from roles.grants import revoke
from workflows.reviews import helpers, notices, people
from workflows.reviews.models import DECISIONS, AccessReview, ReviewItem

LIVE = ("active", "suspended")
MAX_BULK = 1000
WHY = {"reviewer": "removed by the reviewer", "deadline": "not certified by the review's deadline",
       "state_admin": "removed when a state administrator closed the held review"}


def _comment(comment: str | None) -> str | None:
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > 2000:
        raise Invalid("comment_too_long", "Keep the comment under 2,000 characters.", fields={"comment": ["too long"]})
    return comment


def get_item(user: User, item_id: int, *, for_update: bool = False) -> ReviewItem:
    query = db.select(ReviewItem).where(ReviewItem.id == item_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    item = db.session.execute(query).scalar_one_or_none()
    if item is None or not people.may_see(user, item.review.lea_id, item.review.application):
        raise NotFound("unknown_review_item", f"No review item {item_id} is visible to you.")
    return item


def check_decider(user: User, review: AccessReview) -> None:
    if review.status == "closed":
        raise Conflict("review_closed", f"Review {review.label} is closed; nothing more is decided in it.")
    admin = people.is_state_admin(user)
    if review.status == "held" and not admin:
        raise Conflict("review_held", f"Review {review.label} passed its deadline and is held for the state "
                                      "administrators, who decide the rest.")
    if not admin and not people.is_reviewer(user, review.lea_id, review.application):
        raise Forbidden("not_reviewer", f"You are not a reviewer of {review.label}.")


def revocation_reason(review: AccessReview, via: str, comment: str | None) -> str:
    return f"Access review {review.label}: {comment or WHY[via]}"


def apply(item: ReviewItem, decision: str, *, via: str, actor, comment: str | None,
          advice: helpers.Helpers | None, now: _dt.datetime) -> None:
    """Record the decision, revoke on ``revoke``, audit and tell the holder (checks done)."""
    review, grant = item.review, item.grant
    by = actor if isinstance(actor, User) else None
    item.decision, item.decided_via, item.decided_at = decision, via, now
    item.decided_by_id, item.comment = (by.id if by else None), comment
    if advice is not None:
        item.recommendation, item.reasons = advice.recommendation, list(advice.reasons)
    reason = None
    if decision == "revoke":
        reason = revocation_reason(review, via, comment)
        revoke(grant, actor=actor, reason=reason, details={"review": review.id, "review_item": item.id})
        notices.revoked(grant, review, reason, by)
    db.session.flush()
    audit.record("review.decided", actor, review, review.lea,
                 {"item": item.id, "grant": grant.id, "user": item.user.username, "role": item.role_code,
                  "org": item.org.code, "decision": decision, "via": via, "comment": comment,
                  "recommendation": item.recommendation, "reasons": item.reasons, "revocation_reason": reason})


def decide(user: User, item_id: int, decision: str, comment: str | None = None) -> ReviewItem:
    """A reviewer certifies or revokes one item."""
    if decision not in DECISIONS:
        raise Invalid("bad_decision", "decision must be certify or revoke.", fields={"decision": ["certify|revoke"]})
    comment = _comment(comment)
    item = get_item(user, item_id, for_update=True)
    review = item.review
    check_decider(user, review)
    if item.user_id == user.id:
        raise Forbidden("self_review", "You cannot decide on your own access; another reviewer or a state "
                                       "administrator does.")
    if item.decision is not None:
        raise Conflict("item_decided", f"This item was already decided ({item.decision}); nothing was changed.")
    grant = lock_grant(item.grant_id)
    if grant.status not in LIVE:
        raise Conflict("grant_ended", f"This grant was {grant.status} outside the review; there is nothing to decide.")
    advice = helpers.compute([item], review.application, review.lea_id)[item.id]
    apply(item, decision, via="reviewer", actor=user, comment=comment, advice=advice, now=clock.now())
    return item


@dataclass
class BulkResult:
    item: int
    ok: bool
    outcome: str      # the decision made, or the refusal's code
    message: str

    def as_dict(self) -> dict:
        return {"item": self.item, "ok": self.ok, "outcome": self.outcome, "message": self.message}


def decide_many(user: User, item_ids, decision: str, comment: str | None = None,
                review_id: int | None = None) -> list[BulkResult]:
    """Decide several items alike; each stands on its own (one refusal does not undo the others)."""
    ids = []
    for raw in item_ids or []:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise Invalid("bad_items", "items must be review item ids.", fields={"items": ["ids"]}) from None
        if value not in ids:
            ids.append(value)
    if not ids:
        raise Invalid("no_items", "Choose at least one item.", fields={"items": ["empty"]})
    if len(ids) > MAX_BULK:
        raise Invalid("too_many", f"At most {MAX_BULK} items at a time.", fields={"items": ["too many"]})
    results = []
    for item_id in ids:
        try:
            with savepoint():
                if review_id is not None:
                    found = db.session.get(ReviewItem, item_id)
                    if found is None or found.review_id != review_id:
                        raise NotFound("unknown_review_item", f"No item {item_id} in this review.")
                decide(user, item_id, decision, comment)
        except DomainError as exc:
            results.append(BulkResult(item_id, False, exc.code, exc.message))
        else:
            results.append(BulkResult(item_id, True, decision, "revoked" if decision == "revoke" else "certified"))
    return results
