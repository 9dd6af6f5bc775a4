"""SMTP failures: exponential backoff, giving up with the last error, permanent refusals,
leases of dead dispatchers, and an outage during which nothing is lost or duplicated."""
from __future__ import annotations

import datetime as _dt
from collections import Counter

from edlink import clock
from edlink.extensions import db
from edlink.users import find_local_user
from notifications import notify
from notifications.dispatch import claim_next
from notifications.models import DeliveryAttempt, OutboxMessage
from tests.conftest import login
from tests.notifications.conftest import dispatch


def pin_clock():
    """Stop the clock at the real now (after the demo was seeded, so its grants are in force)."""
    now = clock.now()
    clock.set_now(now)
    return now


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def attempts(message: OutboxMessage) -> list[tuple[int, str, str | None]]:
    return [(a.attempt, a.outcome, a.error) for a in db.session.execute(
        db.select(DeliveryAttempt).where(DeliveryAttempt.message_id == message.id)
        .order_by(DeliveryAttempt.id)).scalars()]


def test_backoff_doubles_then_the_message_fails_with_its_last_error(make_app, smtp, person):
    make_app(MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_BASE_SECONDS=60)
    t0 = pin_clock()
    user = person("staffer1", email="staffer1@school.example")
    notify(user, "grant.suspended", {"role": "SER Data Reader", "org": "Test LEA"})
    db.session.commit()
    smtp.stop()

    assert dispatch()["retrying"] == 1
    (row,) = rows()
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, t0 + _dt.timedelta(seconds=60))
    assert "mail server unreachable" in row.last_error and "Connection refused" in row.last_error

    clock.advance(_dt.timedelta(seconds=59))
    assert dispatch() == {"digests": 0, "sent": 0, "retrying": 0, "failed": 0}  # not due yet
    clock.advance(_dt.timedelta(seconds=1))
    dispatch()
    (row,) = rows()
    assert (row.attempts, row.next_attempt_at) == (2, clock.now() + _dt.timedelta(seconds=120))

    clock.advance(_dt.timedelta(seconds=120))
    assert dispatch()["failed"] == 1
    (row,) = rows()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert [(n, outcome) for n, outcome, _ in attempts(row)] == [(1, "retry"), (2, "retry"), (3, "failed")]
    assert all("Connection refused" in error for _, _, error in attempts(row))

    smtp.start()
    clock.advance(_dt.timedelta(days=1))
    assert dispatch()["sent"] == 0 and smtp.messages == []  # a failed message stays failed


def test_state_administrators_see_failures_and_can_send_again(demo, smtp):
    pin_clock()
    dispatch()  # the demo's link notices
    smtp.inbox.refuse["teacher.old@pinecrest.example"] = "550 5.1.1 No such mailbox here"
    record = find_local_user("teacher").active_link.staff_record
    record.email = "teacher.old@pinecrest.example"
    notify(find_local_user("teacher"), "grant.revoked", {"role": "SER Data Reader", "org": "Pinecrest"})
    db.session.commit()
    assert dispatch()["failed"] == 1  # a permanent refusal is not retried
    (row,) = [r for r in rows() if r.event == "grant.revoked"]
    assert row.status == "failed" and row.last_error == "recipient refused: 550 5.1.1 No such mailbox here"

    admin = demo.test_client()
    login(admin, "stateadmin")
    page = admin.get("/notifications/outbox")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "550 5.1.1 No such mailbox here" in body and "teacher.old@pinecrest.example" in body
    detail = admin.get(f"/notifications/outbox/{row.id}").get_data(as_text=True)
    assert "Send again" in detail and "recipient refused" in detail

    coordinator = demo.test_client()
    login(coordinator, "coordinator")
    assert coordinator.get("/notifications/outbox").status_code == 403
    assert coordinator.get(f"/notifications/outbox/{row.id}").status_code == 403
    assert coordinator.post(f"/notifications/outbox/{row.id}/retry", data={"csrf_token": coordinator.csrf_token()}
                            ).status_code == 403

    smtp.inbox.refuse.clear()
    assert admin.post(f"/notifications/outbox/{row.id}/retry", data={"csrf_token": admin.csrf_token()}
                      ).status_code == 302
    assert dispatch()["sent"] == 1
    assert len(smtp.to("teacher.old@pinecrest.example")) == 1
    assert [outcome for _, outcome, _ in attempts(row)] == ["failed", "sent"]
    again = admin.post(f"/notifications/outbox/{row.id}/retry", data={"csrf_token": admin.csrf_token()},
                       follow_redirects=True)
    assert "Only a failed message can be sent again." in again.get_data(as_text=True)
    assert dispatch()["sent"] == 0


def test_a_temporary_refusal_is_retried(app, smtp, person):
    pin_clock()
    smtp.inbox.refuse["busy@school.example"] = "451 4.3.0 Try again later"
    busy = person("busy", email="busy@school.example")
    fine = person("fine", email="fine@school.example")
    notify([busy, fine], "grant.restored", {"role": "SER Data Reader", "org": "Test LEA"})
    db.session.commit()
    assert dispatch() == {"digests": 0, "sent": 1, "retrying": 1, "failed": 0}  # one refusal does not stop the run
    smtp.inbox.refuse.clear()
    clock.advance(_dt.timedelta(minutes=1))
    assert dispatch()["sent"] == 1
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == ["busy@school.example", "fine@school.example"]


def test_a_dead_dispatchers_claim_is_taken_over_after_its_lease(make_app, smtp, person):
    make_app(MAIL_LEASE_SECONDS=300)
    pin_clock()
    notify(person("staffer1", email="staffer1@school.example"), "grant.restored", {"role": "R", "org": "O"})
    db.session.commit()
    assert claim_next() is not None  # a dispatcher claims the message, then dies
    assert dispatch()["sent"] == 0  # the lease still holds
    clock.advance(_dt.timedelta(seconds=301))
    assert dispatch()["sent"] == 1
    assert dispatch()["sent"] == 0
    (row,) = rows()
    assert (row.status, row.attempts, row.lease_token) == ("sent", 2, None)
    assert len(smtp.messages) == 1


def test_an_outage_loses_nothing_and_duplicates_nothing(demo, smtp):
    """SMTP down for an hour while staff keep working; then up: every message arrives once."""
    pin_clock()
    dispatch()  # the demo's link notices went out before the outage
    before = len(smtp.messages)
    smtp.stop()

    client = demo.test_client()
    login(client, "newstaff")
    response = client.post("/api/v1/me/link", json={"staff_id": "1000000001"})
    assert response.status_code == 201  # the action succeeds with the mail server down
    people = [find_local_user(u) for u in ("teacher", "coordinator", "supervisor", "datamanager")]
    for n in range(3):
        notify(people, "review.reminder", {"review": f"R-{n}", "org": "Pinecrest Parish", "items": n + 1},
               link=f"/reviews/{n}")
        db.session.commit()
    expected = [r for r in rows() if r.status == "pending"]
    assert len(expected) == 1 + 3 * 4

    for _ in range(60):  # the scheduler keeps running the dispatcher every minute
        clock.advance(_dt.timedelta(minutes=1))
        assert dispatch()["sent"] == 0
    waiting = {r.id for r in expected}
    tried = [r for r in rows() if r.id in waiting and r.attempts]
    assert tried and all(r.status == "pending" and "Connection refused" in r.last_error for r in tried)
    assert all(outcome == "retry" for r in tried for _, outcome, _ in attempts(r))

    admin = demo.test_client()
    login(admin, "stateadmin")
    assert "Connection refused" in admin.get("/notifications/outbox").get_data(as_text=True)

    smtp.start()
    clock.advance(_dt.timedelta(hours=3))
    result = dispatch()
    assert result["sent"] == len(expected) and result["failed"] == 0
    assert dispatch()["sent"] == 0
    delivered = smtp.messages[before:]
    ids = Counter(m.message["Message-ID"] for m in delivered)
    assert len(delivered) == len(expected) and set(ids.values()) == {1}
    assert set(ids) == {r.message_id for r in expected}
    assert all(r.status == "sent" for r in rows())
    newstaff_mail = [m for m in delivered if "newstaff@demo.example" in m.rcpt_tos]
    assert [m.subject for m in newstaff_mail] == ["Your EdLink account is linked to staff ID 1000000001"]
