"""The Reports and My Reports pages: forms, paged results, downloads, errors, who sees them."""
import pytest

from audit.reports import myreports
from edlink.users import get_user
from tests.audit.reports_support import login, read_csv, world_app


@pytest.fixture
def paged(make_app):
    return world_app(make_app, PAGE_SIZE=2)[1]


def test_reports_page_has_a_form_per_report(paged):
    page = paged.get("/reports/").get_data(as_text=True)
    for title in ("Security Audit Report", "User Report by Application", "Who could do it, then",
                  "What they could do, then", "Request Turnaround"):
        assert title in page
    assert 'for="security-audit-status"' in page and 'id="access-at-at"' in page
    nav = paged.get("/").get_data(as_text=True)
    assert ">Reports</a>" in nav and ">My Reports</a>" in nav


def test_results_page_a_table_at_a_time(paged):
    first = paged.get("/reports/security-audit?run=1&org=101&application=eser").get_data(as_text=True)
    assert "<strong>3</strong> rows" in first and "Page 1 of 2" in first
    assert "Special Education Supervisor" in first and "Pinecrest Elementary School" not in first
    second = paged.get("/reports/security-audit?run=1&org=101&application=eser&page=2").get_data(as_text=True)
    assert "Pinecrest Elementary School" in second and "Page 2 of 2" in second
    assert "Download Excel" in second
    empty = paged.get("/reports/security-audit?run=1&org=101&role=eser.iep_submit").get_data(as_text=True)
    assert "No rows match this report." in empty


def test_bad_input_comes_back_with_the_message(paged):
    resp = paged.get("/reports/access-at?run=1&permission=eser.student.read&org=101002&at=someday")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "at must be an ISO date or date-time" in page
    assert 'value="someday"' in page and "is-invalid" in page and 'role="alert"' in page
    assert paged.get("/reports/security-audit?run=1&org=102").status_code == 403
    assert paged.get("/reports/nothing-like-it").status_code == 404


def test_downloads_csv_at_once_and_the_rest_into_my_reports(paged):
    form = {"csrf_token": paged.csrf_token(), "org": "101", "application": "eser"}
    resp = paged.post("/reports/security-audit/run", data={**form, "format": "csv"})
    assert resp.status_code == 200 and read_csv(resp.data)[1][0] == "101"
    resp = paged.post("/reports/security-audit/run", data={**form, "format": "xlsx"})
    assert resp.status_code == 302 and "/reports/mine" in resp.headers["Location"]
    mine = paged.get(resp.headers["Location"]).get_data(as_text=True)
    assert "is being prepared" in mine and "Queued: 0 of 3 rows" in mine
    myreports.run_all()
    mine = paged.get("/reports/mine").get_data(as_text=True)
    assert "Download<span" in mine
    run_id = myreports.visible_runs(get_user("coordinator"))[0].id
    got = paged.get(f"/reports/runs/{run_id}/download")
    assert got.status_code == 200 and got.data[:2] == b"PK"


def test_staff_without_report_permissions_see_no_reports(paged):
    login(paged, "teacher")
    assert paged.get("/reports/").status_code == 403
    assert ">Reports</a>" not in paged.get("/").get_data(as_text=True)


def test_my_reports_pages_its_runs(make_app):
    _app, client = world_app(make_app, PAGE_SIZE=2)
    ids = [client.get("/api/v1/reports/security-audit?org=101&format=docx").get_json()["run"]["id"] for _ in range(3)]
    first = client.get("/reports/mine").get_data(as_text=True)
    assert "Page 1 of 2" in first and f'data-run="{ids[2]}"' in first and f'data-run="{ids[0]}"' not in first
    second = client.get("/reports/mine?page=2").get_data(as_text=True)
    assert f'data-run="{ids[0]}"' in second and f'data-run="{ids[2]}"' not in second
