"""Who is told what about a review (messages via the notifications package, in the caller's
transaction)."""
from __future__ import annotations

from collections.abc import Iterable

import notifications
from edlink.models import User
from roles.catalog import load
from roles.models import Grant
from workflows.reviews import people
from workflows.reviews.models import AccessReview


def _context(review: AccessReview, **more) -> dict:
    app = load().applications.get(review.application, {})
    return {"review": review.label, "application": app.get("name", review.application),
            "org": review.lea.name, **more}


def _send(users: Iterable[User], event: str, review: AccessReview, context: dict, due: bool = False) -> int:
    unique = list({u.id: u for u in users if u is not None}.values())
    if unique:
        notifications.notify(unique, event, context, link=f"/reviews/{review.id}",
                             due_at=review.due_at if due else None)
    return len(unique)


def _reviewers_or_state(review: AccessReview) -> list[User]:
    """The reviewers; the state administrators when the school system has none."""
    return people.reviewers(review.lea, review.application) or people.state_admins()


def started(review: AccessReview, items: int, holders: set[int]) -> None:
    """Tell the reviewers; and the state administrators when there are none, or when the only
    reviewer's own grant is under review (nobody decides their own)."""
    reviewers = people.reviewers(review.lea, review.application)
    told = reviewers or people.state_admins()
    if len(reviewers) == 1 and reviewers[0].id in holders:
        told = reviewers + people.state_admins()
    _send(told, "review.started", review, _context(review, items=items), due=True)


def reminder(review: AccessReview, undecided: int) -> None:
    _send(_reviewers_or_state(review), "review.reminder", review, _context(review, items=undecided), due=True)


def held(review: AccessReview, undecided: int, removals: int, total: int) -> None:
    context = _context(review, items=undecided, removals=removals, total=total, reason=review.hold_reason)
    _send(people.state_admins(), "review.escalated", review, context)
    _send(people.reviewers(review.lea, review.application), "review.held", review, context)


def closed(review: AccessReview, certified: int, revoked: int) -> None:
    _send(_reviewers_or_state(review), "review.closed", review,
          _context(review, certified=certified, revoked=revoked))


def revoked(grant: Grant, review: AccessReview, reason: str, by: User | None) -> None:
    notifications.notify([grant.user], "grant.revoked",
                         {"role": load().name_of(grant.role_code), "org": grant.org.name, "reason": reason,
                          "decided_by": (by.display_name or by.username) if by else None},
                         link="/access")
