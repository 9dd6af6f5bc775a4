"""Parent/guardian information, attachments (limits, view, edit, delete) and the Secure ID update,
each change audited with the student and the org."""
from __future__ import annotations

import io

from edlink.extensions import db
from ser_core.access import find_student
from ser_core.models import Attachment
from ser_core.registry import import_registry
from tests.conftest import login
from tests.ser_core.conftest import AVERY, BLAIR, CASEY, FINLEY, events

MOTHER = {"title": "Mrs.", "first_name": "Morgan", "last_name": "Pinewood", "relationship": "Mother",
          "phone": "225-555-0110", "city": "Pinecrest", "state": "la", "zip_code": "70801"}


def _guardian(client, state_id=AVERY, **extra):
    return client.post(f"/api/v1/ser/students/{state_id}/guardians", json={**MOTHER, **extra})


def test_guardians_are_added_changed_and_removed_with_title_and_suffix_optional(ser, client):
    login(client, "serwriter")
    minimal = _guardian(client, title="", suffix="")
    assert minimal.status_code == 201, minimal.get_json()
    gid = minimal.get_json()["id"]
    assert minimal.get_json()["state"] == "LA"
    assert client.get(f"/api/v1/ser/students/{AVERY}").get_json()["options_open"] is True
    changed = client.put(f"/api/v1/ser/students/{AVERY}/guardians/{gid}", json={**MOTHER, "suffix": "III"})
    assert changed.status_code == 200 and changed.get_json()["suffix"] == "III"
    assert events("ser.guardian.changed", "serwriter")[-1].details["changed"] == {
        "suffix": ["", "III"], "title": ["", "Mrs."]}
    assert client.delete(f"/api/v1/ser/students/{AVERY}/guardians/{gid}").status_code == 204
    actions = [e.action for e in events("ser.guardian.added") + events("ser.guardian.changed")
               + events("ser.guardian.removed")]
    assert actions == ["ser.guardian.added", "ser.guardian.changed", "ser.guardian.removed"]
    assert {e.org_code for e in events("ser.guardian.removed")} == {"101"}


def test_guardian_rules(ser, client):
    login(client, "serwriter")
    resp = client.post(f"/api/v1/ser/students/{AVERY}/guardians", json={"title": "Sir", "email": "nope"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {
        "title": ["Title must be one of: Mr., Mrs., Ms., Miss, Dr.."], "first_name": ["First Name is required."],
        "last_name": ["Last Name is required."], "relationship": ["Relationship is required."],
        "email": ["E-mail is not an e-mail address."]}
    client.post("/logout")
    login(client, "serreader")
    assert _guardian(client).status_code == 403  # readers read
    assert _guardian(client, state_id=CASEY).status_code == 403


def _upload(client, state_id=AVERY, name="plan.pdf", data=b"%PDF-1.4 healthcare plan", description="Healthcare Plan"):
    return client.post(f"/api/v1/ser/students/{state_id}/attachments", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "description": description})


def test_attachments_need_the_guardian_first_then_upload_view_edit_delete(ser, client):
    login(client, "serwriter")
    early = _upload(client)
    assert early.status_code == 409
    assert early.get_json()["error"]["message"] == ("Save the parent/guardian information first: the remaining "
                                                    "options become available after it is saved.")
    _guardian(client)
    made = _upload(client)
    assert made.status_code == 201, made.get_json()
    aid = made.get_json()["id"]
    assert made.get_json()["content_type"] == "application/pdf" and made.get_json()["size"] == 24
    got = client.get(f"/api/v1/ser/students/{AVERY}/attachments/{aid}")
    assert got.status_code == 200 and got.data == b"%PDF-1.4 healthcare plan"
    assert "attachment" in got.headers["Content-Disposition"]
    page = client.get(f"/ser/students/{AVERY}/attachments").get_data(as_text=True)
    assert "Healthcare Plan" in page and "plan.pdf" in page
    edited = client.put(f"/api/v1/ser/students/{AVERY}/attachments/{aid}", json={"description": "Health Plan 2026"})
    assert edited.get_json()["description"] == "Health Plan 2026"
    assert client.delete(f"/api/v1/ser/students/{AVERY}/attachments/{aid}").status_code == 204
    assert db.session.execute(db.select(Attachment)).first() is None
    assert [e.action.split(".")[-1] for e in events("ser.attachment.added") + events("ser.attachment.viewed")
            + events("ser.attachment.changed") + events("ser.attachment.deleted")] == [
        "added", "viewed", "changed", "deleted"]
    client.post("/logout")
    login(client, "harborwriter")
    assert client.get(f"/api/v1/ser/students/{AVERY}/attachments").status_code == 403


def test_attachment_limits_come_from_the_settings(ser, make_app):
    app = make_app(SER_ATTACHMENT_MAX_BYTES=100, SER_ATTACHMENT_TYPES="pdf txt")
    client = app.test_client()
    login(client, "serwriter")
    _guardian(client)
    big = _upload(client, data=b"x" * 101)
    assert big.status_code == 422 and big.get_json()["error"]["code"] == "file_too_large"
    exe = _upload(client, name="tool.exe")
    assert exe.get_json()["error"]["message"] == "Files of this type cannot be attached. Allowed: pdf, txt."
    blank = _upload(client, description=" ")
    assert blank.get_json()["error"]["message"] == "Description is required (e.g. Healthcare Plan)."
    assert _upload(client, name="notes.txt", data=b"ok").status_code == 201


def test_secure_id_update_compares_then_saves_the_registry_pii_with_before_and_after(ser, client):
    # the registry corrected Blair's record under a new Secure ID
    import_registry("state_id,first_name,last_name,middle_name,birth_date,gender\n"
                    "4000000099,Blair,Lakewood-Reyes,Ann,2014-07-02,M\n", actor="system:test")
    db.session.commit()
    login(client, "secureid")
    compared = client.get(f"/api/v1/ser/students/{BLAIR}/secure-id?state_id=4000000099").get_json()
    assert compared["differences"] == ["birth_date", "ethnicity", "last_name", "middle_name", "race", "state_id",
                                       "suffix"]
    page = client.get(f"/ser/students/{BLAIR}/secure-id?lookup=4000000099").get_data(as_text=True)
    assert "Save eScholar PII to SER" in page and "Lakewood-Reyes" in page
    saved = client.post(f"/api/v1/ser/students/{BLAIR}/secure-id", json={"state_id": "4000000099"})
    assert saved.status_code == 200 and saved.get_json()["state_id"] == "4000000099"
    assert find_student(BLAIR) is None and find_student("4000000099").last_name == "Lakewood-Reyes"
    event = events("ser.secure_id.updated", "secureid")[-1]
    assert (event.details["before"]["state_id"], event.details["after"]["state_id"]) == (BLAIR, "4000000099")
    assert event.details["before"]["last_name"] == "Lakewood" and event.org_code == "101"
    taken = client.post("/api/v1/ser/students/4000000099/secure-id", json={"state_id": AVERY})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "state_id_in_use"


def test_only_secure_id_managers_update_secure_ids(ser, client):
    login(client, "serwriter")
    resp = client.post(f"/api/v1/ser/students/{AVERY}/secure-id", json={"state_id": FINLEY})
    assert resp.status_code == 403
    assert events("authz.denied", "serwriter")[-1].details["permission"] == "eser.secure_id.assign"
    assert client.get(f"/ser/students/{AVERY}/secure-id").status_code == 403
