"""The Security Audit Report: MiSiS's columns, the scope rules, filters, JSON and CSV."""
import csv
import io
from datetime import timedelta

from audit.models import AuditEvent
from edlink import clock
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.grants import create_grant
from tests.conftest import login


def grant(username, role, org, **kw):
    g = create_grant(get_user(username), role, get_org(org), source="demo", granted_by=None, actor="system:test", **kw)
    db.session.commit()
    return g


def world():
    clock.set_now((clock.now() + timedelta(seconds=1)).replace(microsecond=0))
    grant("teacher", "eser.reader", "101002")
    grant("teacher", "eser.writer", "101001", starts_at=clock.now() - timedelta(days=40),
          ends_at=clock.now() - timedelta(days=1))  # ended yesterday: Inactive
    grant("datamanager", "eser.reader", "102001")  # another school system's site


def test_coordinator_sees_only_their_school_system_with_misis_columns(demo, client):
    world()
    login(client, "coordinator")
    body = client.get("/api/v1/reports/security-audit?application=eser").get_json()
    assert body["columns"] == ["Location Code", "Employee Number", "School Name", "User Role(s)", "Last Name",
                               "First Name", "Last Login Date", "Staff Type", "Status", "Recommendation"]
    got = [(r["Location Code"], r["Employee Number"], r["User Role(s)"], r["Last Name"], r["Staff Type"],
            r["Status"], r["Recommendation"]) for r in body["rows"]]
    assert got == [
        ("101", "20000004", "Special Education Supervisor", "Supervisor", "Special Education Supervisor", "Active", ""),
        ("101001", "20000002", "SER Data Writer", "Teacher", "Teacher", "Inactive", "Remove: this access has expired"),
        ("101002", "20000002", "SER Data Reader", "Teacher", "Teacher", "Active", ""),
    ]
    assert all(r["Location Code"] != "102001" for r in body["rows"])
    assert client.get("/api/v1/reports/security-audit?org=102").status_code == 403
    assert client.get("/api/v1/reports/security-audit?org=102001").status_code == 403
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "report.generated")
                               .order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.details["report"] == "security-audit" and event.details["rows"] == 3 and event.actor == "coordinator"


def test_filters_and_csv_match_the_json(demo, client):
    world()
    login(client, "auditor")
    rows = client.get("/api/v1/reports/security-audit?org=101&status=inactive").get_json()["rows"]
    assert [(r["Location Code"], r["User Role(s)"]) for r in rows] == [("101001", "SER Data Writer")]
    rows = client.get("/api/v1/reports/security-audit?role=eser.reader").get_json()["rows"]
    assert [r["Location Code"] for r in rows] == ["101002", "102001"]  # the state auditor sees every LEA
    resp = client.get("/api/v1/reports/security-audit?org=101&application=eser&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    json_rows = client.get("/api/v1/reports/security-audit?org=101&application=eser").get_json()["rows"]
    assert table == [{k: v for k, v in r.items() if k in table[0]} for r in json_rows]
    assert client.get("/api/v1/reports/security-audit?status=bogus").status_code == 422
    assert client.get("/api/v1/reports/security-audit?format=bogus").status_code == 422
    assert client.get("/api/v1/reports/security-audit?org=NOPE").status_code == 404


def test_staff_without_report_permissions_are_refused(demo, client):
    login(client, "teacher")
    resp = client.get("/api/v1/reports/security-audit")
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
