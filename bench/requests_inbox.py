"""Bench: a coordinator's inbox with 10,000 pending requests in scope, and submission latency.

Builds a fresh database (SQLite in a temporary folder, or a new PostgreSQL database with
``--postgresql``), loads the demo state, adds staff at one school system, submits requests through
the real service (``workflows.requests.submit``, timing each), then times the approver's first inbox
page through the real app: the HTML page and ``GET /api/v1/requests?view=inbox``.

    .venv/bin/python bench/requests_inbox.py [--requests 10000] [--postgresql] [--pg-url URL]

Prints the p50 / p95 of submission and of the first inbox page. Targets: submission p95 < 50 ms,
first page p95 < 200 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def make_database(args) -> tuple[str, callable]:
    if not args.postgresql:
        folder = tempfile.mkdtemp(prefix="edlink-bench-")
        return "sqlite:///" + os.path.join(folder, "bench.db"), lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    base = args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = "edlink_bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def populate(n_requests: int) -> list[float]:
    """Staff and users at LEA 101 (direct inserts: set-up, not measured), then ``n_requests``
    submissions through the service, each timed; returns the submission times in ms."""
    from edlink import clock
    from edlink.extensions import db
    from edlink.models import Link, Org, StaffRecord, StaffSite, User
    from edlink.users import LOCAL_ISSUER
    from workflows.requests import submit

    site = db.session.execute(db.select(Org).where(Org.code == "101002")).scalar_one()
    lea = db.session.execute(db.select(Org).where(Org.code == "101")).scalar_one()
    roles = ("eser.reader", "eser.writer")
    people = (n_requests + len(roles) - 1) // len(roles)
    now = clock.now()
    for i in range(people):
        username = f"bench{i:06d}"
        user = User(issuer=LOCAL_ISSUER, subject=username, username=username, display_name=f"Bench Staff {i}",
                    email=f"{username}@bench.example", created_at=now)
        record = StaffRecord(staff_id=f"{2000000000 + i}", employee_number=f"{30000000 + i}",
                             first_name="Bench", last_name=f"Staff {i}", email=user.email, lea_id=lea.id,
                             staff_type="Teacher", status="active", username=username, username_key=username,
                             created_at=now, updated_at=now)
        db.session.add_all([user, record])
        if i % 1000 == 999:
            db.session.flush()
    db.session.flush()
    records = db.session.execute(db.select(StaffRecord).where(StaffRecord.username.like("bench%"))).scalars().all()
    users = {u.username: u for u in db.session.execute(db.select(User).where(User.username.like("bench%"))).scalars()}
    user_ids = []
    for record in records:
        db.session.add(StaffSite(staff_record_id=record.id, org_id=site.id))
        db.session.add(Link(user_id=users[record.username].id, staff_record_id=record.id, created_at=now))
        user_ids.append(users[record.username].id)
    site_id = site.id
    db.session.commit()
    db.session.remove()
    timings = []
    made = 0
    for user_id in user_ids:
        for role in roles:
            if made == n_requests:
                break
            start = time.perf_counter()  # as a request would: a fresh session, load, submit, commit
            submit(db.session.get(User, user_id), role, db.session.get(Org, site_id),
                   "bench: reading and writing records")
            db.session.commit()
            db.session.remove()
            timings.append((time.perf_counter() - start) * 1000)
            made += 1
            if made % 1000 == 0:
                print(f"  submitted {made}", file=sys.stderr)
    return timings


def time_inbox(app, rounds: int) -> dict[str, list[float]]:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["csrf_token"] = "bench"
    resp = client.post("/login", data={"username": "supervisor", "password": "demo-pass-2026",
                                       "csrf_token": _token(app)})
    assert resp.status_code == 302, resp.status_code
    out: dict[str, list[float]] = {"page": [], "api": []}
    for _ in range(rounds):
        for key, url in (("page", "/requests/inbox"), ("api", "/api/v1/requests?view=inbox")):
            start = time.perf_counter()
            resp = client.get(url)
            out[key].append((time.perf_counter() - start) * 1000)
            assert resp.status_code == 200, resp.status_code
    total = client.get("/api/v1/requests?view=inbox").get_json()["total"]
    print(f"  inbox total seen by the supervisor: {total}", file=sys.stderr)
    return out


def _token(app) -> str:
    from itsdangerous import URLSafeTimedSerializer
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("EDLINK_TEST_PG_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    url, drop = make_database(args)
    from flask_migrate import upgrade

    from edlink import create_app
    from edlink.demo import seed
    from edlink.extensions import db
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tempfile.mkdtemp()})
    try:
        with app.app_context():
            upgrade()
            seed()
            db.session.commit()
            submissions = populate(args.requests)
        inbox = time_inbox(app, args.rounds)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    kind = "PostgreSQL" if args.postgresql else "SQLite"
    print(f"{kind}: {args.requests} pending requests in the supervisor's inbox")
    print(f"  submission      p50 {statistics.median(submissions):7.1f} ms   p95 {pct(submissions, 95):7.1f} ms"
          f"   (target p95 < 50 ms)")
    for key, label in (("page", "inbox page (HTML)"), ("api", "inbox API (JSON)")):
        print(f"  {label:17s} p50 {statistics.median(inbox[key]):7.1f} ms   p95 {pct(inbox[key], 95):7.1f} ms"
              f"   (target p95 < 200 ms)")


if __name__ == "__main__":
    main()
