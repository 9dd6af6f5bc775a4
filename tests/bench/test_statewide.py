"""The statewide generator (bench/statewide.py) at a tiny scale, so it cannot rot: the counts it
reports are the rows in the database, the shapes follow the contracts, and the trail it writes
verifies and takes further appends from audit.record."""
from sqlalchemy import func

import audit
from audit.models import AuditEvent
from audit.verify import verify
from bench.statewide import generate
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from roles.catalog import load
from roles.grants import LEVEL_OF_KIND
from roles.models import Grant

SCALE = 0.002  # 200 staff, 600 grants, 2,000 events (1.0: 100,000, 300,000, 1,000,000)


def _count(model) -> int:
    return db.session.execute(db.select(func.count()).select_from(model)).scalar_one()


def test_tiny_statewide_data_set_loads_and_verifies(app):
    counts = generate(app, scale=SCALE, seed=7)
    assert counts == {"orgs": _count(Org), "staff": _count(StaffRecord), "users": _count(User),
                      "events": _count(AuditEvent), "links": _count(Link), "grants": _count(Grant)}
    assert (counts["staff"], counts["grants"], counts["events"]) == (200, 600, 2000)

    kinds = dict(db.session.execute(db.select(Org.kind, func.count()).group_by(Org.kind)).all())
    assert kinds["state"] == 1 and kinds["lea"] >= 2 and kinds["nonpublic"] >= 1 and kinds["early_childhood"] >= 1
    served = db.session.execute(db.select(Org).where(Org.kind.in_(("nonpublic", "early_childhood")))).scalars()
    assert all(org.served_by is not None and org.served_by.kind == "lea" for org in served)

    catalog = load()
    for role_code, kind in db.session.execute(db.select(Grant.role_code, Org.kind).join(Org, Grant.org_id == Org.id)):
        assert LEVEL_OF_KIND[kind] in catalog.role(role_code).scope, (role_code, kind)
    active = db.session.execute(db.select(Grant.user_id, Grant.role_code, Grant.org_id, func.count())
                                .where(Grant.status == "active")
                                .group_by(Grant.user_id, Grant.role_code, Grant.org_id)).all()
    assert all(n == 1 for *_, n in active)

    result = verify(app.config["AUDIT_KEY"])
    assert (result.ok, result.count) == (True, counts["events"]), result.line()

    # The app carries on from the generated rows: ids past them, the chain continued.
    db.session.add(Org(code="ZZ1", name="Added afterwards", kind="school", parent_id=2))
    audit.record("test.after_generate", "system:test")
    db.session.commit()
    after = verify(app.config["AUDIT_KEY"])
    assert (after.ok, after.count, after.head.seq) == (True, counts["events"] + 1, counts["events"] + 1)


def test_the_same_seed_gives_the_same_chain(app, make_app, tmp_path):
    generate(app, scale=0.001, seed=11)
    head = verify(app.config["AUDIT_KEY"]).head
    other = make_app(DATABASE_URL="sqlite:///" + str(tmp_path / "other.db"))
    from flask_migrate import upgrade
    upgrade()
    generate(other, scale=0.001, seed=11)
    assert verify(other.config["AUDIT_KEY"]).head == head
