"""Starting reviews: by a coordinator (``POST /reviews``, the start form) or by the
``reviews.launch`` job on each application's recurrence.

The launch job is idempotent: it starts at most one review per school system, application and
period (2026-H2 for a semiannual application), skips a school system that already had a review
of the application in this period (started by hand or not) or has one still open, and skips one
with nothing to review. Two launchers racing meet a unique index; the loser skips.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy.exc import IntegrityError

import audit
from edlink import clock
from edlink.calendar import calendar
from edlink.errors import Conflict, Forbidden, Invalid
from edlink.extensions import db, savepoint
from edlink.models import Org, User
from roles.cache import snapshot
from roles.catalog import load
from roles.models import Grant
from workflows.reviews import notices, people
from workflows.reviews.models import AccessReview, ReviewItem
from workflows.reviews.settings import months_for, period_of, setting

LIVE = ("active", "suspended")


def application_roles(application: str) -> list[str]:
    catalog = load()
    return sorted({code for code, role in {**catalog.retired, **catalog.roles}.items()
                   if role.application == application})


def lea_grants_query(lea_id: int, application: str):
    """The school system's active and suspended grants of the application (at the LEA, its
    schools and the sites it serves)."""
    return db.select(Grant).where(Grant.role_code.in_(application_roles(application)),
                                  Grant.status.in_(LIVE),
                                  Grant.org_id.in_(sorted(snapshot().covered(lea_id))))


def count_lea_grants(lea_id: int, application: str) -> int:
    query = lea_grants_query(lea_id, application)
    return db.session.execute(query.with_only_columns(db.func.count(Grant.id))).scalar_one()


def due_after(start: _dt.datetime, days: int) -> _dt.datetime:
    """The end (local midnight) of the day ``days`` calendar days after ``start``, moved on to a
    business day when it falls on a weekend or holiday."""
    cal = calendar()
    day = cal.local_day(start) + _dt.timedelta(days=days)
    while not cal.is_business_day(day):
        day += _dt.timedelta(days=1)
    return cal.end_of(day)


def reminder_points(review: AccessReview) -> list[_dt.datetime]:
    return [review.due_at - _dt.timedelta(days=d) for d in setting("REVIEW_REMINDER_DAYS")]


def _create(lea: Org, application: str, origin: str, by: User | None, days: int,
            now: _dt.datetime) -> AccessReview | None:
    """The review and its items (a snapshot of the grants now); None when a racing start won."""
    grants = db.session.execute(lea_grants_query(lea.id, application).order_by(Grant.id)).scalars().all()
    review = AccessReview(lea_id=lea.id, lea=lea, application=application, period=period_of(application, now),
                          origin=origin, status="open", started_at=now, started_by_id=by.id if by else None,
                          due_at=due_after(now, days))
    review.reminders_sent = sum(1 for p in reminder_points(review) if p <= now)
    try:
        with savepoint():
            db.session.add(review)
            db.session.flush()
    except IntegrityError:
        return None
    db.session.add_all(ReviewItem(review_id=review.id, grant_id=g.id, user_id=g.user_id, role_code=g.role_code,
                                  org_id=g.org_id, grant_status_at_start=g.status) for g in grants)
    db.session.flush()
    audit.record("review.started", by if by is not None else "system:reviews.launch", review, lea,
                 {"application": application, "period": review.period, "origin": origin, "items": len(grants),
                  "due_at": review.due_at})
    notices.started(review, len(grants), {g.user_id for g in grants})
    return review


def open_review(lea_id: int, application: str) -> AccessReview | None:
    return db.session.execute(db.select(AccessReview).where(
        AccessReview.lea_id == lea_id, AccessReview.application == application,
        AccessReview.status != "closed")).scalars().first()


def start(user: User, org: Org, application: str, due_in_days: int | None = None) -> AccessReview:
    """A coordinator (or a supervisor for eSER, or a state administrator) starts a review now."""
    if application not in load().applications:
        raise Invalid("unknown_application", f"No application has the code {application!r}.",
                      fields={"application": ["unknown"]})
    if org.kind != "lea":
        raise Invalid("org_not_lea", f"{org.code} is not a school system: reviews cover a whole school "
                                     "system (its schools and the sites it serves come along).",
                      fields={"org": ["not a school system"]})
    if not people.may_start(user, org, application):
        raise Forbidden("not_reviewer", f"Only {org.name}'s reviewers of {application} (its security "
                                        "coordinators) and the state administrators start reviews there.")
    days = setting("REVIEW_DUE_DAYS") if due_in_days in (None, "") else due_in_days
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 366:
        raise Invalid("bad_due_in_days", "due_in_days must be a whole number of days from 1 to 366.",
                      fields={"due_in_days": ["1 to 366"]})
    current = open_review(org.id, application)
    if current is not None:
        raise Conflict("review_open", f"Review {current.label} is still {current.status}; finish it first.")
    if not count_lea_grants(org.id, application):
        raise Invalid("nothing_to_review", f"Nobody holds {application} access at {org.name}: nothing to review.")
    review = _create(org, application, "coordinator", user, days, clock.now())
    if review is None:
        raise Conflict("review_open", "Another review of this application here started just now.")
    return review


def launch(now: _dt.datetime | None = None) -> dict[str, int]:
    """The ``reviews.launch`` job."""
    now = now or clock.now()
    leas = db.session.execute(db.select(Org).where(Org.kind == "lea", Org.active.is_(True))
                              .order_by(Org.code)).scalars().all()
    started = skipped = empty = 0
    for application in sorted(setting("REVIEW_RECURRENCE")):
        if not months_for(application) or application not in load().applications:
            continue
        period = period_of(application, now)
        done = set(db.session.execute(db.select(AccessReview.lea_id).where(
            AccessReview.application == application,
            (AccessReview.period == period) | (AccessReview.status != "closed"))).scalars())
        for lea in leas:
            if lea.id in done:
                skipped += 1
                continue
            if not count_lea_grants(lea.id, application):
                empty += 1
                continue
            if _create(lea, application, "schedule", None, setting("REVIEW_DUE_DAYS"), now) is None:
                skipped += 1
            else:
                started += 1
    return {"started": started, "already": skipped, "nothing_to_review": empty}
