"""Finding reviews (with their progress) and their items (with the decision helpers), and the
one shape pages, API and report show."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, false, func, or_
from sqlalchemy.orm import selectinload

from edlink.errors import Invalid, NotFound
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from roles.catalog import load
from roles.models import Grant
from workflows.reviews import helpers, people
from workflows.reviews.models import REVIEW_STATUSES, AccessReview, ReviewItem

ITEM_STATES = ("undecided", "certified", "revoked", "ended", "all")
LIVE = ("active", "suspended")
# an undecided item whose grant was revoked or expired outside the review (marked at close)
_LIVE_GRANT = exists().where(Grant.id == ReviewItem.grant_id, Grant.status.in_(LIVE))
_ENDED = and_(ReviewItem.decision.is_(None), or_(ReviewItem.ended_elsewhere.is_not(None), ~_LIVE_GRANT))
_UNDECIDED = and_(ReviewItem.decision.is_(None), ReviewItem.ended_elsewhere.is_(None), _LIVE_GRANT)
RECOMMENDATIONS = ("keep", "remove")


def _time(value):
    return value.isoformat() if value is not None else None


def visible_clause(user):
    if people.is_state_admin(user):
        return None
    ways = []
    scope = people.audit_scope(user)
    if scope:
        ways.append(AccessReview.lea_id.in_(sorted(scope)))
    for lea_id, app in people.reviewer_pairs(user):
        ways.append(AccessReview.lea_id == lea_id if app is None
                    else and_(AccessReview.lea_id == lea_id, AccessReview.application == app))
    return or_(*ways) if ways else false()


def get_review(user, review_id: int) -> AccessReview:
    review = db.session.get(AccessReview, review_id)
    if review is None or not people.may_see(user, review.lea_id, review.application):
        raise NotFound("unknown_review", f"No review {review_id} is visible to you.")
    return review


def progress(review_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per review: items, certified, revoked, ended (elsewhere) and undecided."""
    if not review_ids:
        return {}
    rows = db.session.execute(db.select(
        ReviewItem.review_id, func.count(),
        func.sum(case((ReviewItem.decision == "certify", 1), else_=0)),
        func.sum(case((ReviewItem.decision == "revoke", 1), else_=0)),
        func.sum(case((_ENDED, 1), else_=0)))
        .where(ReviewItem.review_id.in_(review_ids)).group_by(ReviewItem.review_id)).all()
    out = {rid: {"items": 0, "certified": 0, "revoked": 0, "ended": 0, "undecided": 0} for rid in review_ids}
    for rid, total, certified, revoked, ended in rows:
        certified, revoked, ended = int(certified or 0), int(revoked or 0), int(ended or 0)
        out[rid] = {"items": total, "certified": certified, "revoked": revoked, "ended": ended,
                    "undecided": total - certified - revoked - ended}
    return out


def find_reviews(user, status: str | None = None, application: str | None = None, org: str | None = None,
                 page: int = 1, per_page: int = 25) -> tuple[list[AccessReview], int]:
    if status and status not in REVIEW_STATUSES:
        raise Invalid("bad_filter", f"status must be one of {', '.join(REVIEW_STATUSES)}.",
                      fields={"status": ["unknown"]})
    query = db.select(AccessReview)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    if status:
        query = query.where(AccessReview.status == status)
    if application:
        query = query.where(AccessReview.application == application)
    if org:
        query = query.where(AccessReview.lea_id.in_(db.select(Org.id).where(Org.code == org)))
    total = db.session.execute(query.with_only_columns(func.count(AccessReview.id)).order_by(None)).scalar_one()
    rows = db.session.execute(query.order_by(
        case((AccessReview.status == "held", 0), (AccessReview.status == "open", 1), else_=2),
        AccessReview.due_at, AccessReview.id.desc()).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return list(rows), total


def review_view(review: AccessReview, tally: dict | None = None, user=None) -> dict:
    app = load().applications.get(review.application, {})
    out = {"id": review.id, "label": review.label, "org": review.lea.code, "org_name": review.lea.name,
           "application": review.application, "application_name": app.get("name", review.application),
           "period": review.period, "origin": review.origin, "status": review.status,
           "started_at": _time(review.started_at),
           "started_by": review.started_by.username if review.started_by else None,
           "due_at": _time(review.due_at), "held_at": _time(review.held_at), "hold_reason": review.hold_reason,
           "closed_at": _time(review.closed_at), "closed_by": review.closed_by.username if review.closed_by else None,
           "outcome": review.outcome, "close_comment": review.close_comment,
           "progress": tally if tally is not None else progress([review.id])[review.id]}
    if user is not None:
        out["you_may_decide"] = review.status != "closed" and (
            people.is_state_admin(user) or (review.status == "open"
                                            and people.is_reviewer(user, review.lea_id, review.application)))
    return out


@dataclass
class ItemFilters:
    state: str = "undecided"
    role: str | None = None
    org: str | None = None
    person: str | None = None
    recommendation: str | None = None

    @classmethod
    def parse(cls, args, default_state: str = "undecided") -> ItemFilters:
        def get(name):
            return (args.get(name) or "").strip() or None
        state = get("state") or default_state
        if state not in ITEM_STATES:
            raise Invalid("bad_filter", f"state must be one of {', '.join(ITEM_STATES)}.",
                          fields={"state": ["unknown"]})
        rec = get("recommendation")
        if rec is not None and rec not in RECOMMENDATIONS:
            raise Invalid("bad_filter", "recommendation must be keep or remove.",
                          fields={"recommendation": ["unknown"]})
        return cls(state=state, role=get("role"), org=get("org"), person=get("person") or get("q"), recommendation=rec)


def with_related(query):
    """Load what an item shows (holder, grant and its org, decider) with the items, not one by one."""
    return query.options(selectinload(ReviewItem.user), selectinload(ReviewItem.org),
                         selectinload(ReviewItem.decided_by),
                         selectinload(ReviewItem.grant).selectinload(Grant.org),
                         selectinload(ReviewItem.grant).selectinload(Grant.granted_by))


def _item_query(review: AccessReview, filters: ItemFilters):
    query = with_related(db.select(ReviewItem)).where(ReviewItem.review_id == review.id)
    if filters.state == "undecided":
        query = query.where(_UNDECIDED)
    elif filters.state == "ended":
        query = query.where(_ENDED)
    elif filters.state in ("certified", "revoked"):
        query = query.where(ReviewItem.decision == ("certify" if filters.state == "certified" else "revoke"))
    if filters.role:
        query = query.where(ReviewItem.role_code == filters.role)
    if filters.org:
        query = query.where(ReviewItem.org_id.in_(db.select(Org.id).where(Org.code == filters.org)))
    if filters.person:
        like = f"%{filters.person.lower()}%"
        staff = (db.select(Link.user_id).join(StaffRecord, StaffRecord.id == Link.staff_record_id).where(
            Link.ended_at.is_(None), or_(db.func.lower(StaffRecord.first_name + " " + StaffRecord.last_name).like(like),
                                         StaffRecord.employee_number == filters.person,
                                         StaffRecord.staff_id == filters.person)))
        query = query.where(or_(ReviewItem.user_id.in_(db.select(User.id).where(func.lower(User.username).like(like))),
                                ReviewItem.user_id.in_(staff)))
    return query.order_by(ReviewItem.id)


def find_items(review: AccessReview, filters: ItemFilters, page: int = 1, per_page: int = 25
               ) -> tuple[list[tuple[ReviewItem, helpers.Helpers]], int]:
    """One page of items with their helpers. Filtering by recommendation works out the helpers of
    every item the other filters leave (they are never stale)."""
    query = _item_query(review, filters)
    if filters.recommendation:
        items = list(db.session.execute(query).scalars())
        advice = helpers.compute(items, review.application, review.lea_id)
        items = [i for i in items if advice[i.id].recommendation == filters.recommendation]
        chosen = items[(page - 1) * per_page: page * per_page]
        return [(i, advice[i.id]) for i in chosen], len(items)
    total = db.session.execute(query.with_only_columns(func.count(ReviewItem.id)).order_by(None)).scalar_one()
    items = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars())
    advice = helpers.compute(items, review.application, review.lea_id)
    return [(i, advice[i.id]) for i in items], total


def item_state(item: ReviewItem) -> str:
    if item.decision:
        return "certified" if item.decision == "certify" else "revoked"
    if item.ended_elsewhere or item.grant.status not in LIVE:
        return "ended"
    return "undecided"


def item_view(item: ReviewItem, advice: helpers.Helpers | None) -> dict:
    catalog = load()
    return {"id": item.id, "review": item.review_id, "grant": item.grant_id, "user": item.user.username,
            "role": item.role_code, "role_name": catalog.name_of(item.role_code), "org": item.org.code,
            "org_name": item.org.name, "state": item_state(item), "decision": item.decision,
            "decided_via": item.decided_via, "decided_at": _time(item.decided_at),
            "decided_by": item.decided_by.username if item.decided_by else None, "comment": item.comment,
            "recommendation_at_decision": item.recommendation,
            "helpers": advice.as_dict() if advice is not None else None}
