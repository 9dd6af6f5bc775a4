"""The daily digest: a coordinator may take action-needed e-mails once a day; decisions about
their own access still arrive at once."""
from __future__ import annotations

import datetime as _dt

from edlink import clock
from edlink.extensions import db
from notifications import notify
from notifications.models import Notification, OutboxMessage
from tests.conftest import login
from tests.notifications.conftest import BASE_URL, dispatch

# 09:00 in Chicago on a winter day (UTC-6): the next 07:00 digest is tomorrow 13:00 UTC
MORNING = _dt.datetime(2030, 1, 10, 15, 0, tzinfo=_dt.UTC)
DIGEST_AT = _dt.datetime(2030, 1, 11, 13, 0, tzinfo=_dt.UTC)


def held() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(db.select(OutboxMessage).where(OutboxMessage.status == "held")).scalars())


def test_action_needed_mail_waits_for_the_digest_own_decisions_do_not(make_app, smtp, person):
    app = make_app(DIGEST_HOUR=7, MAIL_TIMEZONE="America/Chicago")
    clock.set_now(MORNING)
    coordinator = person("coordinator1", email="coord@lea.example")
    client = app.test_client()
    login(client, "coordinator1", "a-long-test-password")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "07:00 (America/Chicago)" in page and "coord@lea.example" in page
    resp = client.post("/notifications/preferences", data={"digest_action_needed": "y",
                                                           "csrf_token": client.csrf_token()})
    assert resp.status_code == 302
    assert client.get("/api/v1/notifications/preferences").get_json() == {"digest_action_needed": True}

    notify(coordinator, "request.action_needed", {"requester": "Test Staffer", "role": "SER Data Reader",
                                                  "org": "Test LEA", "request_id": 5}, link="/requests/5",
           due_at=MORNING + _dt.timedelta(days=5))
    notify(coordinator, "review.started", {"review": "2030 spring review", "org": "Test LEA", "items": 12},
           link="/reviews/3")
    notify(coordinator, "request.approved", {"role": "Auditor", "org": "Test LEA"}, link="/requests/9")
    db.session.commit()
    assert dispatch()["sent"] == 1  # the decision about their own access
    assert [m.subject for m in smtp.messages] == ["Approved: Auditor at Test LEA"]
    assert {m.digest_due_at for m in held()} == {DIGEST_AT}
    # all three are in the centre at once
    assert len(db.session.execute(db.select(Notification)).scalars().all()) == 3

    clock.set_now(DIGEST_AT - _dt.timedelta(minutes=1))
    assert dispatch()["digests"] == 0
    clock.set_now(DIGEST_AT + _dt.timedelta(minutes=3))  # the scheduler's next minute
    assert dispatch() == {"digests": 1, "sent": 1, "retrying": 0, "failed": 0}
    assert dispatch() == {"digests": 0, "sent": 0, "retrying": 0, "failed": 0}
    digest = smtp.messages[-1]
    assert digest.rcpt_tos == ["coord@lea.example"]
    assert digest.subject == "Your EdLink daily digest: 2 items waiting on you"
    text = digest.text()
    assert "1. Action needed: Test Staffer requests SER Data Reader at Test LEA" in text
    assert "2. Access review needs your decisions: 2030 spring review" in text
    assert f"{BASE_URL}/requests/5" in text and f"{BASE_URL}/reviews/3" in text
    assert "Deadline: 15 January 2030, 09:00 CST" in text
    assert f'href="{BASE_URL}/reviews/3"' in digest.html()
    assert held() == []

    # after the digest: the next action-needed message waits for the next one
    notify(coordinator, "review.reminder", {"review": "2030 spring review", "org": "Test LEA"})
    db.session.commit()
    assert dispatch()["sent"] == 0
    assert [m.digest_due_at for m in held()] == [DIGEST_AT + _dt.timedelta(days=1)]

    # turning the digest off sends what it held at once
    client = app.test_client()  # a day later: the old session has timed out
    login(client, "coordinator1", "a-long-test-password")
    resp = client.put("/api/v1/notifications/preferences", json={"digest_action_needed": False})
    assert resp.status_code == 200 and resp.get_json() == {"digest_action_needed": False}
    assert dispatch()["sent"] == 1
    assert smtp.messages[-1].subject == "Reminder: access review 2030 spring review is still open"
    assert len(smtp.messages) == 3


def test_without_the_preference_every_message_goes_at_once(app, smtp, person):
    user = person("coordinator1", email="coord@lea.example")
    notify(user, "request.action_needed", {"requester": "Test Staffer", "role": "R", "org": "O"})
    db.session.commit()
    assert dispatch()["sent"] == 1 and held() == []


def test_preferences_api_validates(app, smtp, person):
    person("coordinator1", email="coord@lea.example")
    client = app.test_client()
    login(client, "coordinator1", "a-long-test-password")
    resp = client.put("/api/v1/notifications/preferences", json={"digest_action_needed": "sometimes"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "validation_error"
    assert "digest_action_needed" in resp.get_json()["error"]["fields"]
