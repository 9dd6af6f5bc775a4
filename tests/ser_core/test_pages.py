"""The SER pages: search (quick, regular, advanced), the profile with its option links, Add New
Student, jurisdiction and its Add New tab; refusals by URL are 403 and audited."""
from __future__ import annotations

import re

from ser_core.access import find_student
from tests.conftest import login
from tests.ser_core.conftest import AVERY, BLAIR, CASEY, DEVON, ELLIS, FINLEY, TODAY, events


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_search_page_lists_only_the_jurisdiction_and_pages_through(ser, client):
    login(client, "serreader")
    page = _text(client.get("/ser/students"))
    assert "Quick Search" in page and "Regular Search" in page and "Switch to Advanced Mode" in page
    assert AVERY in page and BLAIR in page and CASEY not in page and ELLIS not in page
    advanced = _text(client.get("/ser/students?mode=advanced&last_name=old&inactive=true"))
    assert "Advanced Search" in advanced and "Show Inactive" in advanced and "Switch to Regular Mode" in advanced
    assert ELLIS in advanced and "Inactive</span>" in advanced
    none = _text(client.get("/ser/students?q=Nobody"))
    assert "No students in your jurisdiction match this search." in none
    bad = client.get("/ser/students?mode=advanced&dob=31/12/2012")
    assert bad.status_code == 422 and "Date of Birth must be a date (YYYY-MM-DD)." in _text(bad)


def test_a_b_student_by_url_and_by_page_search_is_403_and_audited(ser, client):
    login(client, "serreader")
    assert client.get(f"/ser/students/{CASEY}").status_code == 403
    assert client.get(f"/ser/students/{CASEY}/jurisdiction").status_code == 403
    assert client.get(f"/ser/students?q={CASEY}").status_code == 403
    denied = events("authz.denied", "serreader")
    assert [(e.org_code, e.details["permission"]) for e in denied] == [("102001", "eser.student.read")] * 3


def test_profile_shows_read_only_demographics_and_options_open_after_the_guardian(ser, client):
    login(client, "serwriter")
    page = _text(client.get(f"/ser/students/{AVERY}"))
    assert "Demographic information cannot be edited in SER. Any corrections needed should be made in eScholar." in page
    assert re.search(r'<span class="nav-link disabled"[^>]*>Evaluations</span>', page)
    assert "The remaining links become accessible after the parent/guardian info is saved." in page
    empty = _text(client.get(f"/ser/students/{AVERY}/guardians"))
    assert "No parent/guardian information is saved yet." in empty and "Title and Suffix are optional." in empty
    refused = client.post(f"/ser/students/{AVERY}/guardians", data={"csrf_token": client.csrf_token()})
    assert refused.status_code == 422 and "First Name is required." in _text(refused)
    resp = client.post(f"/ser/students/{AVERY}/guardians", data={
        "csrf_token": client.csrf_token(), "first_name": "Morgan", "last_name": "Pinewood", "relationship": "Mother"})
    assert resp.status_code == 302
    page = _text(client.get(f"/ser/students/{AVERY}"))
    assert f'href="/ser/students/{AVERY}/evaluations">Evaluations</a>' in page
    listed = _text(client.get(f"/ser/students/{AVERY}/guardians"))
    assert "Morgan Pinewood" in listed and "Mother" in listed
    guardian_id = re.search(r"guardians\?edit=(\d+)", listed).group(1)
    editing = _text(client.get(f"/ser/students/{AVERY}/guardians?edit={guardian_id}"))
    assert 'value="Morgan"' in editing and "Delete" in editing
    assert "Modify State ID/PII data" not in page  # for Secure ID Managers only
    saved = client.post(f"/ser/students/{AVERY}", data={"csrf_token": client.csrf_token(), "phone": "bad!"})
    assert saved.status_code == 422 and "Phone is a telephone number" in _text(saved)


def test_add_new_student_find_confirm_save_then_jurisdiction(ser, client):
    login(client, "serwriter")
    token = client.csrf_token()
    found = _text(client.post("/ser/students/new", data={"csrf_token": token, "state_id": FINLEY, "action": "find"}))
    assert "Newcombe" in found and "Confirm" in found
    confirmed = _text(client.post("/ser/students/new", data={"csrf_token": token, "state_id": FINLEY,
                                                             "action": "confirm"}))
    assert "Enter the remaining fields, then click Save." in confirmed
    saved = client.post("/ser/students/new", data={"csrf_token": token, "state_id": FINLEY, "action": "save",
                                                   "primary_language": "English"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/ser/students/{FINLEY}/jurisdiction/new")
    form = _text(client.get(saved.headers["Location"]))
    assert "The LEA is defaulted to your LEA and cannot be changed." in form and "101 Pinecrest Parish" in form
    refused = client.post(saved.headers["Location"], data={"csrf_token": token, "school_code": "101001",
                                                           "begin_date": TODAY.isoformat(), "local_id": "123-45-6789"})
    assert refused.status_code == 422
    assert "Do not use the student&#39;s SSN as the Local Student ID." in _text(refused)
    claimed = client.post(saved.headers["Location"], data={"csrf_token": token, "school_code": "101001",
                                                           "begin_date": TODAY.isoformat(), "local_id": "PHS-7"})
    assert claimed.status_code == 302
    history = _text(client.get(f"/ser/students/{FINLEY}/jurisdiction"))
    assert "101001 Pinecrest High School" in history and "PHS-7" in history
    # a student already in SER elsewhere: the look-up says who has it and whether services are open
    other = _text(client.post("/ser/students/new", data={"csrf_token": token, "state_id": CASEY, "action": "find"}))
    assert "under the jurisdiction of 102 Harbor City Schools" in other and "Open Services: <strong>Yes" in other
    assert "contact Harbor City Schools to close services" in other


def test_claim_page_for_a_student_of_another_lea_refuses_open_services(ser, client):
    login(client, "serwriter")
    page = _text(client.get(f"/ser/students/{CASEY}/jurisdiction/new"))
    assert "Claim jurisdiction: State ID 4000000003" in page and "Open Services: <strong>Yes" in page
    resp = client.post(f"/ser/students/{CASEY}/jurisdiction/new", data={
        "csrf_token": client.csrf_token(), "school_code": "101001", "begin_date": TODAY.isoformat()})
    assert resp.status_code == 409
    assert ("Harbor City Schools (102) has open services for this student. Contact Harbor City Schools to close "
            "the services before the student can be picked up.") in _text(resp)
    ok = client.post(f"/ser/students/{DEVON}/jurisdiction/new", data={
        "csrf_token": client.csrf_token(), "school_code": "NP1011", "begin_date": TODAY.isoformat()})
    assert ok.status_code == 302
    assert find_student(DEVON).site.code == "NP1011"


def test_site_transfer_button_offers_only_other_sites_of_the_lea(ser, client):
    login(client, "serwriter")
    page = _text(client.get(f"/ser/students/{AVERY}/jurisdiction"))
    assert "Transfer to another site in Pinecrest Parish School System" in page
    form = _text(client.get(f"/ser/students/{AVERY}/jurisdiction/new?transfer=1"))
    assert "Site transfer" in form and 'value="101002"' in form and 'value="101001"' not in form
    moved = client.post(f"/ser/students/{AVERY}/jurisdiction/new", data={
        "csrf_token": client.csrf_token(), "transfer": "1", "school_code": "101002", "begin_date": TODAY.isoformat()})
    assert moved.status_code == 302
    assert events("ser.jurisdiction.transferred", "serwriter")[-1].target_id == AVERY


def test_nav_shows_ser_only_to_ser_users(ser, client):
    login(client, "serreader")
    assert 'href="/ser/students">SER</a>' in _text(client.get("/"))
    client.post("/logout")
    login(client, "teacher")
    assert 'href="/ser/students">SER</a>' not in _text(client.get("/"))


def test_the_ser_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/ser/students", "/api/v1/ser/students/{state_id}",
                 "/api/v1/ser/students/{state_id}/jurisdiction", "/api/v1/ser/registry/{state_id}",
                 "/api/v1/ser/students/{state_id}/secure-id", "/api/v1/ser/students/{state_id}/guardians",
                 "/api/v1/ser/students/{state_id}/attachments", "/api/v1/ser/students/{state_id}/evaluations",
                 "/api/v1/ser/students/{state_id}/close-jurisdiction"):
        assert path in paths, path
    assert set(paths["/api/v1/ser/students/{state_id}/jurisdiction"]) >= {"get", "post"}
