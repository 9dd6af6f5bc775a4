"""The gate against a deliberately simple reference model, on generated org trees, catalogs and grants.

Hypothesis builds a small world — an org tree (the state, LEAs with schools, nonpublic and
early-childhood sites served by an LEA or hanging under the state), a catalog (permissions,
roles with implications that form a DAG), users (linked or not, staff record active or not,
enabled or disabled) and grants (any status, start and end before or after now) — writes it
to the database inside one transaction, asks the gate about every (user, permission, org) and
compares with the model below, then rolls the world back.
"""
from __future__ import annotations

import datetime as _dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edlink import clock
from edlink.extensions import db
from edlink.models import Link, Org, StaffRecord, User
from roles import gate
from roles.models import Grant
from roles.sync import sync

NOW = _dt.datetime(2026, 11, 23, 15, 0, tzinfo=_dt.UTC)
PERMS = ["p0", "p1", "p2", "p3"]


@st.composite
def worlds(draw):
    # orgs: (code, kind, parent index, served_by index)
    orgs = [("S", "state", None, None)]
    for i in range(draw(st.integers(1, 3))):
        lea = len(orgs)
        orgs.append((f"L{i}", "lea", 0, None))
        for j in range(draw(st.integers(0, 2))):
            orgs.append((f"L{i}S{j}", "school", lea, None))
    leas = [i for i, o in enumerate(orgs) if o[1] == "lea"]
    for k in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["nonpublic", "early_childhood"]))
        served = draw(st.sampled_from([None, *leas]))
        parent = draw(st.sampled_from([0, *leas]))  # the administrative parent may differ from the server
        orgs.append((f"X{k}", kind, parent, served))
    # roles: permissions and implications of earlier roles (so no cycles)
    roles = []
    for r in range(draw(st.integers(1, 4))):
        perms = draw(st.lists(st.sampled_from(PERMS), max_size=3, unique=True))
        implies = draw(st.lists(st.integers(0, r - 1), max_size=2, unique=True)) if r else []
        roles.append((f"r{r}", perms, [f"r{i}" for i in implies]))
    users = [(draw(st.sampled_from(["linked", "linked", "linked", "unlinked", "ended"])),
              draw(st.sampled_from(["active", "active", "active", "leave", "terminated"])),
              draw(st.booleans() if u == 0 else st.just(False)))
             for u in range(draw(st.integers(1, 3)))]
    grants = draw(st.lists(st.tuples(
        st.integers(0, len(users) - 1), st.integers(0, len(roles) - 1), st.integers(0, len(orgs) - 1),
        st.sampled_from(["active", "active", "active", "suspended", "revoked", "expired"]),
        st.sampled_from([-30, -1, -1, 2]), st.sampled_from([None, None, -2, 3])), min_size=1, max_size=12))
    return orgs, roles, users, grants


def catalog_toml(roles) -> str:
    lines = ['[applications.t]\nname = "T"\n', "[permissions]"]
    lines += [f'"{p}" = "permission {p}"' for p in PERMS]
    for code, perms, implies in roles:
        lines.append(f'\n[roles."{code}"]\nname = "Role {code}"\napplication = "t"\n'
                     f'scope = ["state", "lea", "site"]\napproval = []\n'
                     f'permissions = {perms!r}\nimplies = {implies!r}'.replace("'", '"'))
    return "\n".join(lines) + "\n"


def reference(world, user_i, perm, target_i) -> bool:
    """The rule, written as plainly as possible."""
    orgs, roles, users, grants = world
    link, staff_status, disabled = users[user_i]
    if link != "linked" or staff_status != "active" or disabled:
        return False
    role_perms = {}

    def perms_of(code):
        _c, perms, implies = next(r for r in roles if r[0] == code)
        out = set(perms)
        for other in implies:
            out |= perms_of(other)
        return out
    for code, _p, _i in roles:
        role_perms[code] = perms_of(code)

    def lea_of(i):
        code, kind, parent, served = orgs[i]
        if kind == "lea":
            return i
        if served is not None:
            return served
        if parent is not None and orgs[parent][1] == "lea":
            return parent
        return None

    def covers(grant_org, target):
        return (grant_org == target or orgs[grant_org][1] == "state"
                or (orgs[grant_org][1] == "lea" and lea_of(target) == grant_org))
    for u, r, o, status, start_days, end_days in grants:
        if u != user_i or status != "active":
            continue
        if start_days > 0 or (end_days is not None and end_days <= 0):
            continue
        if perm in role_perms[roles[r][0]] and covers(o, target_i):
            return True
    return False


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(world=worlds())
def test_the_gate_agrees_with_the_reference_model(app, world):
    orgs, roles, users, grants = world
    clock.set_now(NOW)
    try:
        db.session.rollback()
        sync(catalog_toml(roles), actor="system:test")
        rows: list[Org] = []
        for code, kind, parent, served in orgs:
            org = Org(code=code, name=code, kind=kind, parent_id=rows[parent].id if parent is not None else None,
                      served_by_id=rows[served].id if served is not None else None)
            db.session.add(org)
            db.session.flush()
            rows.append(org)
        from edlink.models import bump_epoch
        bump_epoch()
        people: list[User] = []
        for i, (link, staff_status, disabled) in enumerate(users):
            user = User(issuer="test", subject=f"u{i}", username=f"u{i}", disabled=disabled)
            record = StaffRecord(staff_id=f"{i:010d}", employee_number=f"{i:08d}", first_name="U", last_name=str(i),
                                 lea_id=rows[1].id, status=staff_status)
            db.session.add_all([user, record])
            db.session.flush()
            if link != "unlinked":
                db.session.add(Link(user_id=user.id, staff_record_id=record.id,
                                    ended_at=NOW - _dt.timedelta(days=1) if link == "ended" else None))
            people.append(user)
        for u, r, o, status, start_days, end_days in grants:
            db.session.add(Grant(user_id=people[u].id, role_code=roles[r][0], org_id=rows[o].id, status=status,
                                 starts_at=NOW + _dt.timedelta(days=start_days), source="demo",
                                 ends_at=NOW + _dt.timedelta(days=end_days) if end_days is not None else None))
        db.session.flush()
        for ui, user in enumerate(people):
            for perm in PERMS:
                expected_anywhere = False
                for ti, target in enumerate(rows):
                    want = reference(world, ui, perm, ti)
                    expected_anywhere |= want
                    got = gate.can(user, perm, target)
                    assert bool(got) == want, (user.username, perm, target.code, got, world)
                assert bool(gate.can(user, perm)) == expected_anywhere
                assert gate.orgs_with(user, perm) == {rows[ti].id for ti in range(len(rows))
                                                      if reference(world, ui, perm, ti)}
    finally:
        db.session.rollback()
        clock.set_now(None)
