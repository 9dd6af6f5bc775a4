"""The outbox: a notification lives and dies with the transaction of its action, and a
committed one is delivered exactly once, to the right address, saying the right things."""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import func

from edlink.extensions import db
from edlink.linking import link_account
from edlink.models import StaffRecord
from edlink.users import find_local_user
from notifications import notify
from notifications.models import Notification, OutboxMessage
from tests.notifications.conftest import BASE_URL, dispatch


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(db.select(func.count()).select_from(model)).scalar_one()


def test_rolled_back_notification_is_never_sent(app, smtp, person):
    user = person("staffer1", email="staffer1@school.example")
    notify(user, "grant.revoked", {"role": "SER Data Reader", "org": "Test LEA", "reason": "left the job"})
    assert count(OutboxMessage) == 1  # visible inside the transaction...
    db.session.rollback()  # ...and gone with it
    assert count(OutboxMessage) == 0 and count(Notification) == 0
    assert dispatch()["sent"] == 0
    assert smtp.messages == []


def test_committed_notification_is_delivered_exactly_once(app, smtp, person):
    user = person("staffer1", email="staffer1@school.example")
    notify(user, "request.approved", {"role": "SER Data Reader", "org": "Test LEA", "request_id": 42,
                                      "decided_by": "Test Coordinator"}, link="/requests/42")
    db.session.commit()
    assert dispatch() == {"digests": 0, "sent": 1, "retrying": 0, "failed": 0}
    assert dispatch()["sent"] == 0  # nothing is sent twice
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["staffer1@school.example"]
    assert mail.mail_from == "edlink@agency.example"
    assert mail.subject == "Approved: SER Data Reader at Test LEA"
    text, html = mail.text(), mail.html()
    assert ("Your request for the role SER Data Reader at Test LEA (request #42) was approved by Test Coordinator"
            in text)
    assert "You do not need to do anything." in text
    assert f"{BASE_URL}/requests/42" in text
    assert f'href="{BASE_URL}/requests/42"' in html and "<p>Hello Test staffer1,</p>" in html
    row = db.session.execute(db.select(OutboxMessage)).scalar_one()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert mail.message["Message-ID"] == row.message_id


def test_action_needed_message_says_what_to_do_and_by_when(app, smtp, person):
    approver = person("coordinator1", email="coord@lea.example")
    due = _dt.datetime(2030, 3, 4, 17, 0, tzinfo=_dt.UTC)
    (note,) = notify([approver, approver], "request.action_needed",
                     {"requester": "Test Staffer", "role": "SER Data Writer", "org": "Test LEA", "request_id": 7,
                      "stage": "1 of 2", "justification": "new caseload"}, link="/requests/7", due_at=due)
    db.session.commit()
    assert note.action_needed and note.due_at == due
    dispatch()
    (mail,) = smtp.messages  # one per recipient, even when named twice
    assert mail.subject == "Action needed: Test Staffer requests SER Data Writer at Test LEA"
    text = mail.text()
    assert "It is at approval stage 1 of 2, which is routed to you." in text
    assert "What you need to do: Weigh the responsibility of the job" in text
    assert "Deadline: 4 March 2030, 17:00 UTC" in text


def test_html_is_escaped(app, smtp, person):
    user = person("staffer1", email="staffer1@school.example")
    notify(user, "request.denied", {"role": "Reader", "org": "LEA", "reason": "<script>alert(1)</script>"})
    db.session.commit()
    dispatch()
    (mail,) = smtp.messages
    assert "&lt;script&gt;" in mail.html() and "<script>" not in mail.html()
    assert "Reason: <script>alert(1)</script>." in mail.text()


def test_address_prefers_the_linked_active_staff_record(demo, smtp):
    teacher = find_local_user("teacher")
    record = teacher.active_link.staff_record
    record.email = "teacher.work@pinecrest.example"
    db.session.commit()
    notify(teacher, "grant.expiring", {"role": "SER Data Reader", "org": "Pinecrest Elementary",
                                       "expires_on": _dt.date(2030, 1, 31)})
    db.session.commit()
    dispatch()
    mine = [m for m in smtp.messages if "expires soon" in m.subject]
    assert [m.rcpt_tos for m in mine] == [["teacher.work@pinecrest.example"]]
    assert "expires on 31 January 2030" in mine[0].text()


def test_without_an_address_only_in_app_and_the_outbox_says_why(app, smtp, person):
    user = person("noaddress")
    (note,) = notify(user, "attestation.due", {"statement_version": "2030"}, link="/account")
    db.session.commit()
    assert note.id is not None
    row = db.session.execute(db.select(OutboxMessage)).scalar_one()
    assert row.status == "skipped" and row.to_address is None
    assert "no e-mail address" in row.last_error
    assert dispatch()["sent"] == 0 and smtp.messages == []


def test_linking_an_account_notifies_the_user_in_the_same_transaction(demo, smtp):
    dispatch()  # the demo's own link notices
    before = len(smtp.messages)
    newstaff = find_local_user("newstaff")
    link_account(newstaff, "1000000001")
    db.session.rollback()  # the link rolled back: no notice either
    assert db.session.execute(db.select(func.count()).select_from(Notification)
                              .where(Notification.user_id == newstaff.id)).scalar_one() == 0
    link_account(newstaff, "1000000001")
    db.session.commit()
    dispatch()
    (mail,) = smtp.messages[before:]
    staff_email = db.session.execute(db.select(StaffRecord.email)
                                     .where(StaffRecord.staff_id == "1000000001")).scalar_one()
    assert mail.rcpt_tos == [staff_email]
    assert mail.subject == "Your EdLink account is linked to staff ID 1000000001"
    assert "Pinecrest Parish School System" in mail.text()
    note = db.session.execute(db.select(Notification).where(Notification.user_id == newstaff.id)).scalar_one()
    assert (note.event, note.link, note.read_at) == ("link.created", "/account", None)


def test_unknown_event_and_foreign_links_are_programming_errors(app, person):
    import pytest

    from notifications import UnknownEvent
    user = person("staffer1", email="staffer1@school.example")
    with pytest.raises(UnknownEvent):
        notify(user, "request.exploded", {})
    with pytest.raises(ValueError):
        notify(user, "grant.revoked", {}, link="https://elsewhere.example/phish")
    notify(user, "grant.revoked", {}, link=f"{BASE_URL}/grants/3")  # our own absolute URL is fine
    assert db.session.execute(db.select(Notification.link)).scalar_one() == "/grants/3"
