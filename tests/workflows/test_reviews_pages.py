"""Review pages: progress list, start form, the worklist with helpers, filters, paging and bulk
decisions, and closing a held review."""
from __future__ import annotations

import datetime as _dt
import re

from edlink import clock, jobs
from edlink.extensions import db
from tests.conftest import login
from tests.workflows.reviews_support import START, grant, staffer, status_of
from workflows.reviews.models import AccessReview


def _setup(n=3):
    clock.set_now(START)
    grants = {f"reader{i}": grant(staffer(f"reader{i}")) for i in range(1, n + 1)}
    db.session.commit()
    return grants


def _form(client, path, **data):
    return client.post(path, data={"csrf_token": client.csrf_token(), **data})


def test_a_coordinator_starts_a_review_from_the_form_and_works_the_list(demo, client):
    grants = _setup()
    login(client, "coordinator")
    home = client.get("/reviews").get_data(as_text=True)
    assert "Access reviews" in home and "Start a review" in home
    page = client.get("/reviews/new").get_data(as_text=True)
    assert 'value="101"' in page and 'value="102"' not in page  # only the coordinator's school system
    resp = _form(client, "/reviews/new", org="101", application="eser", due_in_days="10")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    review = db.session.execute(db.select(AccessReview)).scalar_one()
    assert resp.headers["Location"].endswith(f"/reviews/{review.id}")
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Review Staffer" in body and "demo data" in body and "matches" in body
    assert "4 undecided" in body  # three readers and the supervisor

    ids = [i.id for i in review.items if i.user.username in ("reader1", "reader2")]
    resp = client.post(f"/reviews/{review.id}", data={"csrf_token": client.csrf_token(), "action": "revoke",
                                                      "item_id": [str(i) for i in ids], "comment": "left the school"})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert body.count("revoked") >= 2 and "2 removed" in body
    assert status_of(grants["reader1"]) == status_of(grants["reader2"]) == "revoked"
    assert status_of(grants["reader3"]) == "active"

    listing = client.get("/reviews").get_data(as_text=True)
    assert f"#{review.id} 2027-H1" in listing and "2 removed" in listing


def test_filters_and_paging_on_the_worklist(demo, client):
    _setup(n=4)
    from edlink.users import get_user
    get_user("reader4").last_login_at = START - _dt.timedelta(days=120)
    db.session.commit()
    demo.config["PAGE_SIZE"] = 2
    jobs.run("reviews.launch", START)
    review = db.session.execute(db.select(AccessReview).where(AccessReview.application == "eser")).scalar_one()
    login(client, "supervisor")
    first = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Page 1 of 3" in first and "5 items" in first
    second = client.get(f"/reviews/{review.id}?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in second
    only = client.get(f"/reviews/{review.id}?person=reader3").get_data(as_text=True)
    assert "1 item" in only and "reader3" in only and "reader1" not in only
    removal = client.get(f"/reviews/{review.id}?recommendation=remove").get_data(as_text=True)
    assert "1 item" in removal and "no sign-in for 120 days" in removal and "reader4" in removal
    # the supervisor cannot tick their own grant
    own = next(i for i in review.items if i.user.username == "supervisor")
    assert f'id="pick-{own.id}"' not in client.get(f"/reviews/{review.id}?person=supervisor").get_data(as_text=True)


def test_a_held_review_is_closed_by_a_state_administrator(demo, client):
    grants = _setup()
    jobs.run("reviews.launch", START)
    review = db.session.execute(db.select(AccessReview).where(AccessReview.application == "eser")).scalar_one()
    jobs.run("reviews.deadlines", review.due_at + _dt.timedelta(hours=1))
    login(client, "coordinator")
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "escalated to the state administrators" in body and "Close the review" not in body
    assert "Keep selected" not in body
    client.post("/logout")
    login(client, "stateadmin")
    listing = client.get("/reviews?status=held").get_data(as_text=True)
    assert "escalated" in listing and f"#{review.id}" in listing
    resp = _form(client, f"/reviews/{review.id}", action="close", outcome="recommendation", comment="checked")
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(AccessReview, review.id).status == "closed"
    assert all(status_of(g) == "active" for g in grants.values())  # each recommended keeping
    body = client.get(f"/reviews/{review.id}?state=all").get_data(as_text=True)
    assert re.search(r'id="review-status"[^>]*>closed<', body)


def test_who_may_use_the_pages(demo, client):
    _setup()
    jobs.run("reviews.launch", START)
    review = db.session.execute(db.select(AccessReview).where(AccessReview.application == "edlink")).scalar_one()
    login(client, "teacher")
    assert "Access reviews" not in client.get("/").get_data(as_text=True)
    assert client.get("/reviews/new").status_code == 403
    assert client.get(f"/reviews/{review.id}").status_code == 404
    client.post("/logout")
    login(client, "supervisor")  # reviews eSER, not EdLink's own roles
    assert client.get(f"/reviews/{review.id}").status_code == 404
    client.post("/logout")
    login(client, "auditor")  # sees, decides nothing
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Keep selected" not in body and "Report" in body
