"""Access reviews: starting, deciding, and the deadline — undecided items are removed, except when
that would remove more than the guard's share, where the review is held and escalated."""
from __future__ import annotations

import datetime as _dt

import pytest

from edlink import clock, jobs
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles import gate
from roles.models import Grant
from tests.conftest import login
from tests.workflows.reviews_support import START, events, grant, notes, staffer, status_of
from workflows.reviews.models import AccessReview, ReviewItem


@pytest.fixture
def lea101(demo):
    """LEA 101's eSER access: the demo supervisor (sped supervisor at 101, from the demo data)
    and three readers, all active staff who signed in lately."""
    clock.set_now(START)
    people = {name: staffer(name) for name in ("reader1", "reader2", "reader3")}
    grants = {name: grant(user) for name, user in people.items()}
    grants["supervisor"] = db.session.execute(db.select(Grant).where(
        Grant.user_id == get_user("supervisor").id, Grant.role_code == "eser.sped_supervisor")).scalar_one()
    get_user("supervisor").last_login_at = START - _dt.timedelta(days=1)
    db.session.commit()
    return grants


def start_review(client, username="coordinator", **body):
    login(client, username)
    resp = client.post("/api/v1/reviews", json={"org": "101", "application": "eser", "due_in_days": 14, **body})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def items_by_user(client, review_id):
    resp = client.get(f"/api/v1/reviews/{review_id}/items?per_page=200")
    assert resp.status_code == 200, resp.get_json()
    return {item["user"]: item for item in resp.get_json()["items"]}


def decide(client, item_id, decision, comment=None):
    return client.post(f"/api/v1/reviews/items/{item_id}/decision", json={"decision": decision, "comment": comment})


def test_a_coordinator_starts_a_review_of_every_active_grant(lea101, client):
    outside = grant(staffer("harbor1", lea="102", sites=("102001",)), org="102001")  # another school system
    db.session.commit()
    review = start_review(client)
    assert (review["org"], review["application"], review["status"], review["origin"]) == ("101", "eser", "open",
                                                                                         "coordinator")
    assert review["period"] == "2027-H1" and review["progress"]["items"] == 4
    # due 14 days later at local midnight (2027-03-15 is a Monday, a business day)
    assert review["due_at"] == "2027-03-16T05:00:00+00:00"
    items = items_by_user(client, review["id"])
    assert set(items) == {"reader1", "reader2", "reader3", "supervisor"}
    assert outside.id not in {i["grant"] for i in items.values()}
    helper = items["reader1"]["helpers"]
    assert (helper["hr_status"], helper["staff_type"], helper["org_matches"], helper["recommendation"]) == (
        "active", "Teacher", True, "keep")
    assert helper["grant_age_days"] == 200 and helper["approved_by"] == ["demo data"]
    [started] = events("review.started")
    assert started.details["items"] == 4 and started.actor == "coordinator"
    assert notes("supervisor", "review.started") and notes("coordinator", "review.started")
    # one open review per school system and application
    again = client.post("/api/v1/reviews", json={"org": "101", "application": "eser"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "review_open"


def test_undecided_items_are_removed_at_the_deadline(lea101, client):
    review = start_review(client)
    items = items_by_user(client, review["id"])
    for name in ("reader1", "reader2", "supervisor"):
        assert decide(client, items[name]["id"], "certify", "still teaches here").status_code == 200
    assert jobs.run("reviews.deadlines", START + _dt.timedelta(days=13)) == {"closed": 0, "held": 0, "reminded": 1}
    assert status_of(lea101["reader3"]) == "active"

    result = jobs.run("reviews.deadlines", START + _dt.timedelta(days=16))  # past the deadline
    assert result == {"closed": 1, "held": 0, "reminded": 0}
    assert status_of(lea101["reader3"]) == "revoked"  # 1 of 4 grants: under the guard
    assert all(status_of(lea101[n]) == "active" for n in ("reader1", "reader2", "supervisor"))
    revoked = db.session.get(Grant, lea101["reader3"].id)
    assert revoked.revoked_reason.startswith(f"Access review #{review['id']} (eser at 101, 2027-H1)")
    assert "not certified by the review's deadline" in revoked.revoked_reason
    assert not gate.can(get_user("reader3"), "eser.student.read", get_org("101002"))
    [decided] = [e for e in events("review.decided") if e.details["via"] == "deadline"]
    assert decided.details["user"] == "reader3" and decided.details["decision"] == "revoke"
    [closed] = events("review.closed")
    assert (closed.details["certified"], closed.details["revoked"], closed.details["undecided"]) == (3, 1, 0)
    assert notes("reader3", "grant.revoked") and notes("coordinator", "review.closed")
    assert db.session.get(AccessReview, review["id"]).status == "closed"
    assert jobs.run("reviews.deadlines", START + _dt.timedelta(days=17)) == {"closed": 0, "held": 0, "reminded": 0}


def test_over_the_guard_the_review_is_held_and_escalated(lea101, client):
    review = start_review(client)
    items = items_by_user(client, review["id"])
    assert decide(client, items["supervisor"]["id"], "certify").status_code == 200
    # three of the four grants undecided: removing them is 75%, more than the 50% guard
    result = jobs.run("reviews.deadlines", START + _dt.timedelta(days=16))
    assert result == {"closed": 0, "held": 1, "reminded": 0}
    assert all(status_of(lea101[n]) == "active" for n in ("reader1", "reader2", "reader3"))
    assert not events("grant.revoked")
    held = db.session.get(AccessReview, review["id"])
    assert held.status == "held" and "3 of the school system's 4" in held.hold_reason
    [escalated] = events("review.escalated")
    assert escalated.details["removals"] == 3 and escalated.details["to"] == ["stateadmin"]
    assert notes("stateadmin", "review.escalated") and notes("coordinator", "review.held")
    assert jobs.run("reviews.deadlines", START + _dt.timedelta(days=17)) == {"closed": 0, "held": 0, "reminded": 0}

    # the reviewers may no longer decide; a state administrator closes it, choosing
    client.post("/logout")
    login(client, "coordinator")
    late = decide(client, items["reader1"]["id"], "certify")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "review_held"
    client.post("/logout")
    login(client, "stateadmin")
    assert decide(client, items["reader1"]["id"], "revoke", "left in January").status_code == 200
    resp = client.post(f"/api/v1/reviews/{review['id']}/close",
                       json={"outcome": "keep", "comment": "confirmed by phone"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "closed" and resp.get_json()["closed_by"] == "stateadmin"
    assert resp.get_json()["progress"] == {"items": 4, "certified": 3, "revoked": 1, "ended": 0, "undecided": 0}
    assert status_of(lea101["reader1"]) == "revoked"
    assert status_of(lea101["reader2"]) == "active" and status_of(lea101["reader3"]) == "active"
    [closed] = events("review.closed")
    assert closed.actor == "stateadmin" and closed.details["outcome"] == "keep"


def test_exactly_the_guard_share_is_still_removed(lea101, client):
    review = start_review(client)
    items = items_by_user(client, review["id"])
    for name in ("supervisor", "reader1"):
        decide(client, items[name]["id"], "certify")
    assert jobs.run("reviews.deadlines", START + _dt.timedelta(days=16))["closed"] == 1  # 2 of 4 is not more than half
    assert status_of(lea101["reader2"]) == status_of(lea101["reader3"]) == "revoked"


def test_a_lower_guard_holds_sooner(lea101, client):
    client.application.config["REVIEW_REMOVAL_GUARD"] = 0.2
    review = start_review(client)
    items = items_by_user(client, review["id"])
    for name in ("supervisor", "reader1", "reader2"):
        decide(client, items[name]["id"], "certify")
    assert jobs.run("reviews.deadlines", START + _dt.timedelta(days=16))["held"] == 1  # 1 of 4 = 25% > 20%


def test_the_outcome_may_follow_the_recommendation(lea101, client):
    # reader2 went on leave: the helpers recommend removal; the others keep
    db.session.execute(db.select(Grant).where(Grant.id == lea101["reader2"].id)).scalar_one().user.active_link \
        .staff_record.status = "leave"
    db.session.commit()
    client.application.config["REVIEW_DEFAULT_OUTCOME"] = "recommendation"
    review = start_review(client)
    items = items_by_user(client, review["id"])
    assert items["reader2"]["helpers"]["recommendation"] == "remove"
    assert items["reader2"]["helpers"]["reasons"] == ["HR status is leave"]
    assert jobs.run("reviews.deadlines", START + _dt.timedelta(days=16))["closed"] == 1
    assert status_of(lea101["reader2"]) == "revoked"
    assert status_of(lea101["reader1"]) == status_of(lea101["reader3"]) == status_of(lea101["supervisor"]) == "active"
    item = db.session.execute(db.select(ReviewItem).where(ReviewItem.grant_id == lea101["reader2"].id)).scalar_one()
    assert (item.decision, item.decided_via, item.recommendation) == ("revoke", "deadline", "remove")


def test_a_reviewer_revokes_at_once_and_nobody_decides_their_own(lea101, client):
    review = start_review(client, username="supervisor")
    items = items_by_user(client, review["id"])
    own = decide(client, items["supervisor"]["id"], "certify")
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "self_review"
    resp = decide(client, items["reader1"]["id"], "revoke", "no caseload this year")
    assert resp.status_code == 200 and resp.get_json()["state"] == "revoked"
    assert status_of(lea101["reader1"]) == "revoked"
    [revoked] = events("grant.revoked")
    assert revoked.actor == "supervisor" and revoked.details["review"] == review["id"]
    assert "no caseload this year" in revoked.details["reason"]
    assert notes("reader1", "grant.revoked")
    again = decide(client, items["reader1"]["id"], "certify")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "item_decided"
    client.post("/logout")
    login(client, "coordinator")  # the coordinator may decide the supervisor's own access
    assert decide(client, items["supervisor"]["id"], "certify").status_code == 200


def test_bulk_decisions_answer_per_item(lea101, client):
    review = start_review(client)
    items = items_by_user(client, review["id"])
    ids = [items["reader1"]["id"], items["reader2"]["id"], 999999]
    resp = client.post(f"/api/v1/reviews/{review['id']}/decisions",
                       json={"items": ids, "decision": "certify", "comment": "checked the roster"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["decided"] == 2
    assert [(r["item"], r["ok"], r["outcome"]) for r in body["results"]] == [
        (ids[0], True, "certify"), (ids[1], True, "certify"), (999999, False, "unknown_review_item")]
    assert len(events("review.decided")) == 2


def test_who_sees_and_who_decides(lea101, client):
    review = start_review(client)
    item = items_by_user(client, review["id"])["reader1"]["id"]
    client.post("/logout")
    login(client, "auditor")  # sees every review, decides none
    assert client.get(f"/api/v1/reviews/{review['id']}/items").status_code == 200
    assert decide(client, item, "certify").status_code == 403
    client.post("/logout")
    login(client, "teacher")
    assert client.get(f"/api/v1/reviews/{review['id']}").status_code == 404
    assert client.get("/api/v1/reviews").get_json()["total"] == 0
    assert decide(client, item, "certify").status_code == 404
    assert client.post("/api/v1/reviews", json={"org": "101", "application": "edlink"}).status_code == 403
    client.post("/logout")
    login(client, "supervisor")  # an eSER reviewer: sees eSER reviews only
    assert client.get("/api/v1/reviews").get_json()["total"] == 1
    assert client.post("/api/v1/reviews", json={"org": "101", "application": "edlink"}).status_code == 403
    resp = client.post("/api/v1/reviews", json={"org": "101002", "application": "eser"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "org_not_lea"


@pytest.mark.parametrize("setting, value, fragment", [
    ("REVIEW_RECURRENCE", "eser=5", "EDLINK_REVIEW_RECURRENCE"),
    ("REVIEW_DEFAULT_OUTCOME", "archive", "EDLINK_REVIEW_DEFAULT_OUTCOME"),
    ("REVIEW_REMOVAL_GUARD", "1.5", "EDLINK_REVIEW_REMOVAL_GUARD"),
    ("REVIEW_DUE_DAYS", "0", "EDLINK_REVIEW_DUE_DAYS"),
    ("REVIEW_REMINDER_DAYS", "7,soon", "EDLINK_REVIEW_REMINDER_DAYS"),
])
def test_bad_review_settings_refuse_to_start(app_config, setting, value, fragment):
    from edlink import create_app
    from edlink.config import ConfigError
    with pytest.raises(ConfigError, match=fragment):
        create_app({**app_config, setting: value})


def test_review_settings_from_text(app_config):
    from edlink import create_app
    made = create_app({**app_config, "REVIEW_RECURRENCE": "eser=6, edlink=12", "REVIEW_REMINDER_DAYS": "1,14",
                       "REVIEW_REMOVAL_GUARD": "0.25"})
    assert made.config["REVIEW_RECURRENCE"] == {"eser": 6, "edlink": 12}
    assert made.config["REVIEW_REMINDER_DAYS"] == [14, 1] and made.config["REVIEW_REMOVAL_GUARD"] == 0.25
