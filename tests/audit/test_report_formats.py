"""Every report's rows match a hand-built data set exactly, in every format."""
import datetime as dt

import pytest

from tests.audit.reports_support import (
    A,
    build_world,
    login,
    read_csv,
    read_docx,
    read_pdf_text,
    read_xlsx,
    run_in_background,
)

SAR = [
    ["Location Code", "Employee Number", "School Name", "User Role(s)", "Last Name", "First Name", "Last Login Date",
     "Staff Type", "Status", "Recommendation"],
    ["101", "20000004", "Pinecrest Parish School System", "Special Education Supervisor", "Supervisor", "Demo",
     "2027-01-04", "Special Education Supervisor", "Active", ""],
    ["101001", "20000002", "Pinecrest High School", "SER Data Writer", "Teacher", "Demo", "2027-01-04", "Teacher",
     "Inactive", "Remove: this access has expired"],
    ["101002", "20000002", "Pinecrest Elementary School", "SER Data Reader", "Teacher", "Demo", "2027-01-06",
     "Teacher", "Active", ""],
]
SAR_URL = "/api/v1/reports/security-audit?org=101&application=eser"
ESER = "eSER (Special Education Reporting)"
UBA = [
    ["Application", "Username", "Last Name", "First Name", "Employee Number", "Role", "Org Code", "Org Name",
     "Granted On", "Granted By", "Approved By", "Source", "Expires", "Status"],
    [ESER, "supervisor", "Supervisor", "Demo", "20000004", "Special Education Supervisor", "101",
     "Pinecrest Parish School System", "2026-11-15 09:00", "", "", "Demo", "", "Active"],
    [ESER, "teacher", "Teacher", "Demo", "20000002", "SER Data Reader", "101002", "Pinecrest Elementary School",
     "2027-01-04 09:10", "coordinator", "supervisor; coordinator", "Request", "", "Active"],
]
UBA_URL = "/api/v1/reports/user-by-application?application=eser&org=101"


@pytest.fixture
def world(app, client):
    build_world(client)
    return client


def test_security_audit_json_and_csv(world):
    login(world, "coordinator")
    body = world.get(SAR_URL).get_json()
    assert body["columns"] == SAR[0] and body["count"] == 3
    assert [[r[c] for c in SAR[0]] for r in body["rows"]] == SAR[1:]
    assert body["generated_by"] == "coordinator" and body["scope"].startswith("101 Pinecrest Parish School System")
    assert read_csv(world.get(SAR_URL + "&format=csv").data) == SAR


def test_security_audit_excel(world):
    login(world, "coordinator")
    status, got = run_in_background(world, SAR_URL + "&format=xlsx")
    assert status["rows"] == 3 and got.mimetype.endswith("spreadsheetml.sheet")
    sheet, rows, book = read_xlsx(got.data)
    assert rows[0] == SAR[0]
    assert [[("" if v is None else v) for v in r] for r in rows[1:]] == [
        [*r[:6], dt.datetime.fromisoformat(r[6]) if r[6] else "", *r[7:]] for r in SAR[1:]]
    assert sheet["G3"].is_date and sheet["G3"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:J4"
    assert sheet.column_dimensions["C"].width == 34 and sheet.column_dimensions["A"].width == 12
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True)}
    assert about["Report"] == "Security Audit Report" and about["Requested by"] == "coordinator"
    assert about["Filters"] == "org=101, application=eser" and about["Rows"] == "3"


def test_security_audit_pdf(world):
    login(world, "coordinator")
    _status, got = run_in_background(world, SAR_URL + "&format=pdf")
    assert got.mimetype == "application/pdf"
    pages = read_pdf_text(got.data)
    assert len(pages) == 1
    page = pages[0]
    for heading in ("Security Audit Report", "Scope: 101 Pinecrest Parish School System",
                    "Generated 2027-01-06 10:00 UTC for coordinator", "Page 1 of 1"):
        assert heading in page
    lines = [line.strip() for line in page.splitlines()]
    body = " ".join(lines)
    for row in SAR[1:]:
        assert " ".join(v for v in row if v) in body, row
    assert body.count("Pinecrest High School") == 1 and body.count("Demo") == 3


def test_security_audit_word(world):
    login(world, "coordinator")
    _status, got = run_in_background(world, SAR_URL + "&format=docx")
    table, text = read_docx(got.data)
    assert table == SAR
    assert "Security Audit Report" in text and "coordinator" in text and "2027-01-06 10:00 UTC" in text


def test_pdf_heading_and_page_numbers_on_every_page(app, world):
    from audit.reports.formats import Meta
    from audit.reports.office import write_pdf
    from audit.reports.security_audit import KIND
    rows = [(f"{n:06d}", "20000002", "School", "SER Data Reader", "Teacher", "Demo", None, "Teacher", "Active", "")
            for n in range(120)]
    pages = read_pdf_text(write_pdf(Meta("Security Audit Report", "101 Pinecrest", A, "auditor"), KIND, rows))
    assert len(pages) >= 3
    for n, page in enumerate(pages, 1):
        assert "Security Audit Report" in page and "Scope: 101 Pinecrest" in page
        assert "Generated 2027-01-04 09:00 UTC for auditor" in page and f"Page {n} of {len(pages)}" in page
        assert "Recommendation" in page and "Staff Type" in page  # the header row repeats
    assert sum(page.count("SER Data Reader") for page in pages) == 120


def test_user_by_application_every_format(world):
    login(world, "auditor")
    body = world.get(UBA_URL).get_json()
    assert body["columns"] == UBA[0]
    assert [[r[c] for c in UBA[0]] for r in body["rows"]] == UBA[1:]
    assert read_csv(world.get(UBA_URL + "&format=csv").data) == UBA
    _s, got = run_in_background(world, UBA_URL + "&format=xlsx")
    _sheet, rows, _book = read_xlsx(got.data)
    assert rows[0] == UBA[0]
    assert [[("" if v is None else v) for v in r] for r in rows[1:]] == [
        [*r[:8], dt.datetime.fromisoformat(r[8]), *r[9:12], "", r[13]] for r in UBA[1:]]
    _s, got = run_in_background(world, UBA_URL + "&format=docx")
    assert read_docx(got.data)[0] == UBA
    _s, got = run_in_background(world, UBA_URL + "&format=pdf")
    text = " ".join(line.strip() for line in read_pdf_text(got.data)[0].splitlines())
    assert "supervisor; coordinator" in text and "User Report by Application" in text


def test_an_lea_never_sees_another_lea_in_any_report(world):
    from tests.audit.reports_support import grant
    grant("datamanager", "eser.reader", "102001")
    login(world, "coordinator")
    for url in ("/api/v1/reports/security-audit", "/api/v1/reports/user-by-application"):
        rows = world.get(url).get_json()["rows"]
        assert rows and not [r for r in rows if r.get("Location Code", r.get("Org Code", "")).startswith("102")]
        assert world.get(url + "?org=102").status_code == 403
        assert world.get(url + "?org=102&format=xlsx").status_code == 403  # refused before anything is queued


def test_excel_keeps_formula_like_text_as_text_and_drops_what_xml_cannot_carry(app):
    from audit.reports.formats import Meta
    from audit.reports.office import write_xlsx
    from audit.reports.security_audit import KIND
    rows = [("=HYPERLINK(\"x\")", "0042", "A & B <school>", "Role\x01", "Last", "First", dt.date(2027, 1, 4),
             "Type", "Active", "")]
    sheet, got, _book = read_xlsx(write_xlsx(Meta("Security Audit Report", "all", A, "auditor"), KIND, rows))
    assert got[1][:7] == ["=HYPERLINK(\"x\")", "0042", "A & B <school>", "Role", "Last", "First",
                          dt.datetime(2027, 1, 4)]
    assert sheet["A2"].data_type == "s" and sheet["B2"].data_type == "s"
