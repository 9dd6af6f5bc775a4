"""A hand-built world for the report tests, on a fixed clock, and readers for every format."""
from __future__ import annotations

import csv
import datetime as dt
import io

from edlink import clock
from edlink.extensions import db
from edlink.orgs import get_org
from edlink.users import get_user
from roles.grants import create_grant
from tests.conftest import login as first_login

A = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # a Monday


def login(client, name):
    client.post("/logout")
    return first_login(client, name)


def at(when):
    clock.set_now(when)


def seed_demo(when=A - dt.timedelta(days=50)):
    from edlink.demo import seed
    at(when)
    seed()
    db.session.commit()


def grant(username, role, org, **kw):
    g = create_grant(get_user(username), role, get_org(org), source=kw.pop("source", "demo"), granted_by=None,
                     actor="system:test", **kw)
    db.session.commit()
    return g


def build_world(client):
    """The demo state at A-50d; a Writer grant at 101001 (A-40d to A+1h); Reader at 101002 through a request
    approved by the supervisor, then the coordinator (at A+10m); sign-ins by the teacher at A+30m and A+2d."""
    seed_demo()
    at(A)
    grant("teacher", "eser.writer", "101001", starts_at=A - dt.timedelta(days=40), ends_at=A + dt.timedelta(hours=1))
    login(client, "teacher")
    resp = client.post("/api/v1/requests", json={"role": "eser.reader", "org": "101002", "justification": "IEPs"})
    assert resp.status_code == 201, resp.get_json()
    request_id = resp.get_json()["id"]
    at(A + dt.timedelta(minutes=5))
    login(client, "supervisor")
    assert client.post(f"/api/v1/requests/{request_id}/approve", json={}).status_code == 200
    at(A + dt.timedelta(minutes=10))
    login(client, "coordinator")
    assert client.post(f"/api/v1/requests/{request_id}/approve", json={}).status_code == 200
    at(A + dt.timedelta(minutes=30))
    login(client, "teacher")
    at(A + dt.timedelta(days=2))
    login(client, "teacher")
    client.post("/logout")
    at(A + dt.timedelta(days=2, hours=1))


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def read_xlsx(data: bytes):
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data))
    sheet = book["Report"]
    return sheet, [list(r) for r in sheet.iter_rows(values_only=True)], book


def read_pdf_text(data: bytes) -> list[str]:
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


def read_docx(data: bytes) -> tuple[list[list[str]], str]:
    from docx import Document
    document = Document(io.BytesIO(data))
    table = document.tables[0]
    return ([[c.text for c in row.cells] for row in table.rows],
            "\n".join(p.text for p in document.paragraphs) + "\n" + document.sections[0].header.paragraphs[0].text)


def run_in_background(client, url):
    """Ask for a background format, run the queue as the worker would, and download the file."""
    from audit.reports.myreports import run_all
    resp = client.get(url)
    assert resp.status_code == 202, resp.get_data(as_text=True)[:300]
    run = resp.get_json()["run"]
    assert run["status"] == "queued"
    assert run_all() >= 1
    status = client.get(run["status_url"]).get_json()
    assert status["status"] == "done", status
    got = client.get(status["download_url"])
    assert got.status_code == 200
    return status, got


def world_app(make_app, username="coordinator", **config):
    """An app with ``config``, the world built, ``username`` signed in: (app, client)."""
    app = make_app(**config)
    client = app.test_client()
    build_world(client)
    login(client, username)
    return app, client
