"""The statewide data set (DESIGN.md, bench/): about 70 school systems (LEAs), 1,500 sites
(schools, and nonpublic schools and early-childhood centres served by an LEA), 100,000 staff
records with their users and links, 300,000 grants and 1,000,000 audit events forming a chain
that verifies under the app's audit key. Every figure is multiplied by ``scale``.

Deterministic: the same seed and scale give the same rows and the same chain. Every name is
invented from syllables (no real people or places). Rows go straight into the schema the
migrations built (bench.bulk), in one transaction; the database must be empty.

    python -m bench.statewide --scale 0.01 --database-url sqlite:///instance/statewide.db

``generate(app, scale, seed)`` is the importable form; it returns the counts.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field

from bench import events
from bench.bulk import Loader, migrated_app

SEED = 20261123
FULL = {"leas": 70, "schools": 1400, "nonpublic": 70, "early_childhood": 30, "staff": 100_000,
        "grants": 300_000, "events": 1_000_000}
STATE = "ST"
ISSUER = "local"
START_US = 1_751_328_000_000_000  # 2025-07-01T00:00:00Z: the trail spans the year after it
YEAR_US = 365 * 86_400 * 1_000_000
SYLLABLES = ("ka", "lo", "mi", "ra", "te", "vo", "ze", "su", "na", "di", "ber", "fen", "gul", "hov",
             "jas", "kel", "mor", "pim", "quin", "rud", "sav", "tov", "wex", "yil")
PLACE_ENDS = ("ridge", "vale", "port", "field", "brook", "moor", "crest", "haven", "ford", "wick")
SCHOOL_KINDS = ("Elementary", "Middle", "High", "Primary", "Academy")
STAFF_TYPES = ("Teacher", "Teacher", "Teacher", "Paraprofessional", "Counselor", "Administrator",
               "Speech Therapist", "Special Education Teacher", "Nurse", "Clerk")
STATUSES = (("active", 90), ("pending_hr", 4), ("leave", 3), ("terminated", 3))
LEA_ROLES = (("edlink.security_coordinator", 2), ("edlink.data_manager", 2), ("eser.sped_supervisor", 2),
             ("eser.secure_id", 2), ("eser.iep_submit", 3), ("edlink.auditor", 1))
SITE_ROLES = (("eser.reader", 50), ("eser.writer", 30), ("eser.iep_forms", 20))


@dataclass
class World:
    """What the generator made, by id, for the event stream and the counts."""

    orgs: list[tuple] = field(default_factory=list)  # (id, code, name, kind, parent_id, served_by_id, active)
    lea_ids: list[int] = field(default_factory=list)
    sites_of: dict[int, list[int]] = field(default_factory=dict)  # lea id -> site ids
    staff: list[tuple] = field(default_factory=list)
    staff_sites: list[tuple[int, int]] = field(default_factory=list)
    users: list[tuple] = field(default_factory=list)
    user_of_staff: dict[int, int] = field(default_factory=dict)
    links: list[tuple] = field(default_factory=list)
    grants: list[list] = field(default_factory=list)

    def code(self, org_id: int) -> str:
        return self.orgs[org_id - 1][1]


def name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _n(scale: float, what: str, least: int) -> int:
    return max(least, round(FULL[what] * scale))


def make_orgs(w: World, rng: random.Random, scale: float) -> None:
    w.orgs.append((1, STATE, "State Department of Education (fictional)", "state", None, None, True))
    leas = _n(scale, "leas", 2)
    weights = [rng.paretovariate(1.6) for _ in range(leas)]
    total = sum(weights)
    for i in range(leas):
        oid = len(w.orgs) + 1
        w.orgs.append((oid, str(101 + i), f"{name(rng, 2)}{rng.choice(PLACE_ENDS)} School System", "lea", 1,
                       None, True))
        w.lea_ids.append(oid)
        w.sites_of[oid] = []
    schools = max(leas, _n(scale, "schools", 1))
    per_lea = [1 + int((schools - leas) * wt / total) for wt in weights]
    for _ in range(schools - sum(per_lea)):
        per_lea[rng.randrange(leas)] += 1
    for lea, count in zip(w.lea_ids, per_lea, strict=True):
        for k in range(count):
            oid = len(w.orgs) + 1
            label = f"{name(rng, 2)} {rng.choice(SCHOOL_KINDS)} School"
            w.orgs.append((oid, f"{w.code(lea)}{k + 1:03d}", label, "school", lea, None, True))
            w.sites_of[lea].append(oid)
    for kind, prefix, label in (("nonpublic", "NP", "Academy (nonpublic)"),
                                ("early_childhood", "EC", "Early Learning Center")):
        for k in range(_n(scale, kind, 1)):
            lea = rng.choice(w.lea_ids)
            oid = len(w.orgs) + 1
            w.orgs.append((oid, f"{prefix}{w.code(lea)}{k + 1:02d}", f"{name(rng, 2)} {label}", kind, 1, lea, True))
            w.sites_of[lea].append(oid)


def make_people(w: World, rng: random.Random, scale: float) -> None:
    """Staff records (1% state-agency staff), their sites, users for most, links for the active."""
    staff_n = _n(scale, "staff", 10)
    sizes = [len(w.sites_of[lea]) for lea in w.lea_ids]
    created = START_US - 30 * 86_400 * 1_000_000
    statuses, status_weights = zip(*STATUSES, strict=True)
    for i in range(staff_n):
        sid = i + 1
        lea = 1 if i % 100 == 99 else rng.choices(w.lea_ids, sizes)[0]
        status = rng.choices(statuses, status_weights)[0]
        first, last = name(rng, 2), name(rng, 3)
        username = f"{first[0]}{last}{sid}".lower() if rng.random() < (0.95 if status == "active" else 0.5) else None
        w.staff.append((sid, f"{1_000_000_000 + (i * 7919 + 12345) % 9_000_000_000:010d}",
                        f"{10_000_000 + (i * 104_729) % 90_000_000:08d}", first, last,
                        f"{username or 'staff' + str(sid)}@{w.code(lea).lower()}.example", lea,
                        rng.choice(STAFF_TYPES), status, username, username, created, created))
        if lea != 1:
            for site in set(rng.choices(w.sites_of[lea], k=rng.choice((1, 1, 1, 2)))):
                w.staff_sites.append((sid, site))
        if username and status != "pending_hr" and rng.random() < 0.9:
            uid = len(w.users) + 1
            w.users.append((uid, ISSUER, f"bench-{sid:07d}", username, f"{first} {last}",
                            f"{username}@{w.code(lea).lower()}.example", None, False, created + uid))
            w.user_of_staff[sid] = uid
            if status in ("active", "terminated") and rng.random() < 0.95:
                w.links.append([len(w.links) + 1, uid, sid, None, None, None])


def make_grants(w: World, rng: random.Random, scale: float) -> None:
    """Leadership roles per LEA and at the state first, then SER roles at sites and LEAs."""
    target = _n(scale, "grants", 10)
    linked = [(link[1], link[2]) for link in w.links]  # (user id, staff id)
    if not linked:
        raise ValueError("scale too small: no linked users to hold grants")
    by_lea: dict[int, list[tuple[int, int]]] = {}
    for uid, sid in linked:
        by_lea.setdefault(w.staff[sid - 1][6], []).append((uid, sid))
    active: set[tuple[int, str, int]] = set()
    granters: dict[int, int | None] = {1: None}

    def grant(uid: int, role: str, org: int, by: int | None, status: str = "active") -> None:
        if status == "active":
            active.add((uid, role, org))
        w.grants.append([len(w.grants) + 1, uid, role, org, status, by])

    state_people = by_lea.get(1) or linked
    for k, (uid, _sid) in enumerate(state_people[:8]):
        grant(uid, "edlink.state_admin" if k < 4 else "edlink.auditor", 1, granters[1])
        granters[1] = granters[1] or uid
    for lea in w.lea_ids:
        people = by_lea.get(lea) or state_people
        for role, count in LEA_ROLES:
            for uid, _sid in rng.sample(people, min(count, len(people))):
                if (uid, role, lea) not in active and len(w.grants) < target:
                    grant(uid, role, lea, granters[1])
                    if role == "edlink.security_coordinator":
                        granters.setdefault(lea, uid)
    roles, weights = zip(*SITE_ROLES, strict=True)
    sites = {}
    for sid, site in w.staff_sites:
        sites.setdefault(sid, []).append(site)
    while len(w.grants) < target:
        status = rng.choices(("active", "revoked", "expired"), (80, 12, 8))[0]
        for _try in range(3):  # an active grant is unique per (user, role, org)
            uid, sid = linked[rng.randrange(len(linked))]
            lea = w.staff[sid - 1][6]
            role = "edlink.auditor" if lea == 1 else rng.choices(roles, weights)[0]
            org = lea if lea == 1 or rng.random() < 0.3 or sid not in sites else rng.choice(sites[sid])
            if status != "active" or (uid, role, org) not in active:
                break
        else:
            status = "expired"
        grant(uid, role, org, granters.get(lea, granters[1]), status)


def generate(app, scale: float = 1.0, seed: int = SEED, *, progress=None) -> dict[str, int]:
    """Fill the app's (migrated, empty) database with the statewide data set; returns the counts."""
    from edlink.extensions import db

    rng = random.Random(seed)
    w = World()
    make_orgs(w, rng, scale)
    make_people(w, rng, scale)
    make_grants(w, rng, scale)
    with app.app_context():
        loader = Loader(db.engine)
        try:
            if not (loader.empty("org") and loader.empty("audit_event")):
                raise RuntimeError("the statewide data set goes into an empty database")
            stream = events.Stream(w, rng, _n(scale, "events", 10), START_US, YEAR_US,
                                   str(app.config["AUDIT_KEY"]).encode("utf-8"))
            counts = load(loader, w, stream, progress or (lambda _what: None))
            loader.commit()
        finally:
            loader.close()
    return counts


def load(loader: Loader, w: World, stream: events.Stream, progress) -> dict[str, int]:
    ts = loader.stamp
    counts = {}
    counts["orgs"] = loader.insert("org", ("id", "code", "name", "kind", "parent_id", "served_by_id", "active"),
                                   sorted(w.orgs, key=lambda o: (o[4] or 0, o[0])))
    counts["staff"] = loader.insert("staff_record", (
        "id", "staff_id", "employee_number", "first_name", "last_name", "email", "lea_id", "staff_type",
        "status", "username", "username_key", "created_at", "updated_at"),
        (r[:11] + (ts(r[11]), ts(r[12])) for r in w.staff))
    loader.insert("staff_site", ("staff_record_id", "org_id"), w.staff_sites)
    counts["users"] = loader.insert("user_account", (
        "id", "issuer", "subject", "username", "display_name", "email", "last_login_at", "disabled",
        "created_at"), (u[:8] + (ts(u[8]),) for u in w.users))
    progress("orgs, staff and users")
    counts["events"] = loader.insert("audit_event", events.COLUMNS, stream.rows(ts))  # sets link/grant times
    progress("audit events")
    counts["links"] = loader.insert("staff_link", (
        "id", "user_id", "staff_record_id", "created_at", "ended_at", "ended_reason"),
        ((i, u, s, ts(c), ts(e), why) for i, u, s, c, e, why in w.links))
    counts["grants"] = loader.insert("grant", (
        "id", "user_id", "role_code", "org_id", "status", "starts_at", "ends_at", "source", "granted_by_id",
        "created_at", "revoked_at", "revoked_by_id", "revoked_reason"), (
        (gid, uid, role, org, status, ts(at), ts(ends), source, by, ts(at), ts(revoked),
         by if revoked else None, "no longer needed" if revoked else None)
        for gid, uid, role, org, status, by, at, ends, revoked, source in w.grants))
    loader.reset_ids("org", "staff_record", "user_account", "staff_link", "grant")
    progress("links and grants")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statewide", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of an empty (or new) database")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every figure (0.01 for a quick run)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--audit-key", help="the HMAC key of the chain (default: EDLINK_AUDIT_KEY or the dev key)")
    args = parser.parse_args(argv)
    extra = {"AUDIT_KEY": args.audit_key} if args.audit_key else {}
    app = migrated_app(args.database_url, **extra)
    began = time.perf_counter()
    counts = generate(app, args.scale, args.seed, progress=lambda what: print(
        f"  {time.perf_counter() - began:6.1f} s  {what} loaded", file=sys.stderr))
    print(" ".join(f"{k}={v}" for k, v in counts.items()), f"in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
