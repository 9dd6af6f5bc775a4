"""The IEP, services, activity, PST and bulk update pages render and call the same rules."""
from __future__ import annotations

import re

from tests.conftest import login
from tests.ser_core.conftest import AVERY, BLAIR, TODAY
from tests.ser_core.ieps_world import COMPLETE, D, evaluated, general


def _post(client, url, data):
    return client.post(url, data={"csrf_token": client.csrf_token(), **data})


def _iep_id(resp) -> int:
    return int(re.search(r"/ser/ieps/(\d+)", resp.headers["Location"]).group(1))


def test_iep_pages_from_draft_to_submitted(ser, client):
    evaluated()
    login(client, "iepsubmitter")
    page = client.get(f"/ser/students/{AVERY}/ieps")
    assert b"IEP Forms" in page.data and b"No IEPs yet" in page.data
    made = _post(client, f"/ser/students/{AVERY}/ieps", {"iep_type": "initial"})
    iep_id = _iep_id(made)
    shown = client.get(f"/ser/ieps/{iep_id}").get_data(as_text=True)
    assert "Add/Delete Forms to IEP" in shown and "Submit to SER" not in shown
    checked = _post(client, f"/ser/ieps/{iep_id}/validation", {}).get_data(as_text=True)
    assert "The Team Meeting Date is missing." in checked and 'id="make-official"' not in checked
    _post(client, f"/ser/ieps/{iep_id}", {"action": "save_form", "form_code": "general", **general()})
    for code, data in COMPLETE.items():
        assert _post(client, f"/ser/ieps/{iep_id}", {"action": "save_form", "form_code": code, **data}).status_code \
            == 302
    bad = _post(client, f"/ser/ieps/{iep_id}", {"action": "save_form", "form_code": "general",
                                                "team_meeting_date": "not a date"})
    assert bad.status_code == 422 and "Team Meeting Date must be a date." in bad.get_data(as_text=True)
    checked = _post(client, f"/ser/ieps/{iep_id}/validation", {}).get_data(as_text=True)
    assert 'id="make-official"' in checked and 'data-level="error"' not in checked
    assert _post(client, f"/ser/ieps/{iep_id}", {"action": "official"}).status_code == 302
    shown = client.get(f"/ser/ieps/{iep_id}").get_data(as_text=True)
    assert "Submit to SER" in shown and "Amend" in shown
    assert _post(client, f"/ser/ieps/{iep_id}", {"action": "submit"}).status_code == 302
    listed = client.get(f"/ser/students/{AVERY}/ieps").get_data(as_text=True)
    assert '<td class="submitted">Y</td>' in listed
    activity = client.get(f"/ser/students/{AVERY}/activity").get_data(as_text=True)
    assert general()["begin_date"] and (TODAY - 10 * D).strftime("%m/%d/%Y") in activity


def test_no_submit_button_without_the_permission(ser, client):
    evaluated()
    login(client, "iepwriter")
    iep_id = _iep_id(_post(client, f"/ser/students/{AVERY}/ieps", {"iep_type": "initial"}))
    _post(client, f"/ser/ieps/{iep_id}", {"action": "save_form", "form_code": "general", **general()})
    for code, data in COMPLETE.items():
        _post(client, f"/ser/ieps/{iep_id}", {"action": "save_form", "form_code": code, **data})
    assert _post(client, f"/ser/ieps/{iep_id}", {"action": "official"}).status_code == 302
    shown = client.get(f"/ser/ieps/{iep_id}").get_data(as_text=True)
    assert "Official" in shown and "Submit to SER" not in shown
    assert _post(client, f"/ser/ieps/{iep_id}", {"action": "submit"}).status_code == 403


def test_service_activity_pst_and_bulk_pages(ser, client):
    evaluated()
    login(client, "serwriter")
    page = client.get(f"/ser/students/{AVERY}/services").get_data(as_text=True)
    assert "No services are recorded." in page and "Service Recipient" in page
    refused = _post(client, f"/ser/students/{AVERY}/services", {"service_type": "Speech/Language",
                                                                "provider_staff_id": "123456789",
                                                                "begin_date": TODAY.isoformat()})
    assert refused.status_code == 422
    assert "Do not use an SSN for the Service Provider" in refused.get_data(as_text=True)
    for state_id in (AVERY, BLAIR):
        assert _post(client, f"/ser/students/{state_id}/services", {
            "service_type": "Speech/Language", "recipient": "Student", "provider_staff_id": "1000000015",
            "begin_date": (TODAY - 20 * D).isoformat()}).status_code == 302
    assert "Demo SER Reader" in client.get(f"/ser/students/{AVERY}/services").get_data(as_text=True)
    assert "No special education activity" in client.get(f"/ser/students/{AVERY}/activity").get_data(as_text=True)
    assert "exit data comes first" in client.get(f"/ser/students/{AVERY}/pst").get_data(as_text=True)
    listed = client.get("/ser/tools/provider-bulk-update?old_provider_staff_id=1000000015").get_data(as_text=True)
    assert "Avery" in listed and "Blair" in listed
    done = _post(client, "/ser/tools/provider-bulk-update", {
        "old_provider_staff_id": "1000000015", "new_provider_staff_id": "1000000019", "select_all": "1",
        "end_date": (TODAY - 1 * D).isoformat()}).get_data(as_text=True)
    assert "2 records updated successfully." in done


def test_ser_reports_tab(ser, client):
    import io
    login(client, "serwriter")
    page = client.get("/ser/reports").get_data(as_text=True)
    assert "SER Eval Summary" in page and "SER/SIS Exit Cross Check" in page and "Load SIS exit records" in page
    csv = _post(client, "/ser/reports/ser-pst-missing/run", {"format": "csv"})
    assert csv.status_code == 200 and csv.get_data(as_text=True).startswith("LEA Code,School,State ID")
    bad = _post(client, "/ser/reports/ser-rosters/run", {"format": "csv", "period": "someday"})
    assert bad.status_code == 302
    assert "period must be a month" in client.get("/ser/reports").get_data(as_text=True)
    queued = _post(client, "/ser/reports/ser-rosters/run", {"format": "xlsx"})
    assert queued.status_code == 302 and "/reports/mine" in queued.headers["Location"]
    loaded = client.post("/ser/reports/sis-exits", data={
        "csrf_token": client.csrf_token(),
        "file": (io.BytesIO(f"state_id,lea_code,exit_code,exit_date\n{AVERY},101,01,2026-05-28\n".encode()),
                 "exits.csv")}, content_type="multipart/form-data")
    assert loaded.status_code == 302
    assert "SIS exits loaded: 1 new, 0 updated, 0 unchanged." in client.get("/ser/reports").get_data(as_text=True)
    client.post("/logout")
    login(client, "coordinator")
    assert client.get("/ser/reports").status_code == 403
