"""The ``reviews.deadlines`` job, and closing a held review.

Idempotent and driven by ``now`` (edlink.clock):
- reminders: each ``REVIEW_REMINDER_DAYS`` point before the deadline (default 7 days and 1 day)
  sends one reminder to the reviewers while items are undecided;
- at the deadline every undecided item gets ``REVIEW_DEFAULT_OUTCOME`` (keep, remove, or the
  helpers' recommendation; default remove) and the review closes (``review.closed``) — unless
  the removals would be more than ``REVIEW_REMOVAL_GUARD`` (default 0.5) of the school system's
  grants of that application (its active and suspended grants at the deadline). Then nothing at
  all is applied: the review is held (``review.escalated``), the state administrators are told,
  and one of them closes it choosing the outcome for what is left.

An item whose grant ended outside the review (revoked or expired elsewhere) is settled as such:
it is neither certified nor revoked by the review.
"""
from __future__ import annotations

import datetime as _dt

import audit
from edlink import clock
from edlink.errors import Conflict, Forbidden, Invalid
from edlink.extensions import db
from edlink.models import User
from workflows.reviews import helpers, notices, people
from workflows.reviews.campaign import count_lea_grants, reminder_points
from workflows.reviews.decide import _comment, apply
from workflows.reviews.models import OUTCOMES, AccessReview, ReviewItem
from workflows.reviews.queries import progress, with_related
from workflows.reviews.settings import setting

LIVE = ("active", "suspended")


def undecided(review: AccessReview) -> list[ReviewItem]:
    return list(db.session.execute(with_related(db.select(ReviewItem)).where(
        ReviewItem.review_id == review.id, ReviewItem.decision.is_(None), ReviewItem.ended_elsewhere.is_(None))
        .order_by(ReviewItem.id)).scalars())


def _plan(review: AccessReview, outcome: str, now: _dt.datetime):
    """(item, decision, helpers) for each undecided item whose grant is still held; and the
    items whose grant ended elsewhere."""
    items = undecided(review)
    live = [i for i in items if i.grant.status in LIVE]
    ended = [i for i in items if i.grant.status not in LIVE]
    advice = helpers.compute(live, review.application, review.lea_id, now)
    plan = []
    for item in live:
        if outcome == "recommendation":
            decision = "revoke" if advice[item.id].recommendation == "remove" else "certify"
        else:
            decision = "revoke" if outcome == "remove" else "certify"
        plan.append((item, decision, advice[item.id]))
    return plan, ended


def counts(review: AccessReview) -> dict[str, int]:
    return progress([review.id])[review.id]


def _settle(review: AccessReview, outcome: str, *, via: str, actor, comment: str | None,
            now: _dt.datetime) -> None:
    plan, ended = _plan(review, outcome, now)
    for item in ended:
        item.ended_elsewhere = item.grant.status
    for item, decision, advice in plan:
        apply(item, decision, via=via, actor=actor, comment=comment, advice=advice, now=now)
    review.status, review.closed_at, review.outcome = "closed", now, outcome
    review.closed_by_id = actor.id if isinstance(actor, User) else None
    review.close_comment = comment
    db.session.flush()
    tally = counts(review)
    audit.record("review.closed", actor, review, review.lea,
                 {"outcome": outcome, "via": via, "comment": comment, **tally,
                  "applied": {"certified": sum(1 for _, d, _a in plan if d == "certify"),
                              "revoked": sum(1 for _, d, _a in plan if d == "revoke")}})
    notices.closed(review, tally["certified"], tally["revoked"])


def close_due(now: _dt.datetime) -> dict[str, int]:
    due = db.session.execute(db.select(AccessReview).where(
        AccessReview.status == "open", AccessReview.due_at <= now).order_by(AccessReview.id)
        .with_for_update(skip_locked=True)).scalars().all()
    closed = held = 0
    outcome, guard = setting("REVIEW_DEFAULT_OUTCOME"), float(setting("REVIEW_REMOVAL_GUARD"))
    for review in due:
        plan, _ended = _plan(review, outcome, now)
        removals = sum(1 for _, decision, _a in plan if decision == "revoke")
        total = count_lea_grants(review.lea_id, review.application)
        share = removals / total if total else 0.0
        if removals and share > guard:
            review.status, review.held_at = "held", now
            review.hold_reason = (f"At the deadline {removals} of the school system's {total} {review.application} "
                                  f"grants ({share:.0%}) would have been removed ({outcome}), more than the "
                                  f"guard of {guard:.0%}: nothing was removed.")
            db.session.flush()
            audit.record("review.escalated", "system:reviews.deadlines", review, review.lea,
                         {"undecided": len(plan), "removals": removals, "grants": total, "share": round(share, 4),
                          "guard": guard, "outcome": outcome,
                          "to": [u.username for u in people.state_admins()]})
            notices.held(review, len(plan), removals, total)
            held += 1
            continue
        _settle(review, outcome, via="deadline", actor="system:reviews.deadlines", comment=None, now=now)
        closed += 1
    return {"closed": closed, "held": held}


def remind(now: _dt.datetime) -> int:
    reviews = db.session.execute(db.select(AccessReview).where(
        AccessReview.status == "open", AccessReview.due_at > now).order_by(AccessReview.id)
        .with_for_update(skip_locked=True)).scalars().all()
    sent = 0
    for review in reviews:
        passed = sum(1 for point in reminder_points(review) if point <= now)
        if passed <= review.reminders_sent:
            continue
        review.reminders_sent, review.last_reminded_at = passed, now
        left = counts(review)["undecided"]
        if left:
            notices.reminder(review, left)
            sent += 1
    return sent


def run(now: _dt.datetime | None = None) -> dict[str, int]:
    """The ``reviews.deadlines`` job: one pass at ``now`` (default: edlink.clock.now())."""
    now = now or clock.now()
    return {**close_due(now), "reminded": remind(now)}


def close_held(user: User, review: AccessReview, outcome: str, comment: str | None = None) -> AccessReview:
    """A state administrator closes a held review, choosing what the undecided items get."""
    if not people.is_state_admin(user):
        raise Forbidden("not_state_admin", "Only a state administrator closes a held review.")
    if outcome not in OUTCOMES:
        raise Invalid("bad_outcome", "outcome must be keep, remove or recommendation.",
                      fields={"outcome": ["keep|remove|recommendation"]})
    comment = _comment(comment)
    db.session.execute(db.select(AccessReview).where(AccessReview.id == review.id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()
    if review.status != "held":
        raise Conflict("review_not_held", f"Review {review.label} is {review.status}; only a held review is "
                                          "closed this way.")
    _settle(review, outcome, via="state_admin", actor=user, comment=comment, now=clock.now())
    return review
