"""The statewide audit trail: one event per grant and per link (which fixes their times), the
imports that built the directory, and sign-ins, sign-outs, refusals between, all chained with
audit.chain under the app's audit key exactly as audit.record would (same columns, same stored
forms), so ``edlink audit verify`` passes on the result.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

from audit.chain import GENESIS, canonical, link
from bench.bulk import instant

COLUMNS = ("seq", "occurred_at", "action", "actor_id", "actor", "target_type", "target_id", "org_code",
           "details", "prev_hash", "hash")
DAY_US = 86_400 * 1_000_000
GRANT, LINK, FILLER = 1, 2, 0
FILLERS = (("user.login", 55), ("user.logout", 30), ("user.login_failed", 8), ("authz.denied", 5),
           ("link.failed", 2))
PERMISSIONS = ("eser.student.read", "eser.student.write", "eser.iep.edit", "edlink.report.run")


class Stream:
    """``rows(stamp)`` yields the audit_event rows in seq order and, as it goes, sets the times
    (and life) of the world's links and grants to those of their events."""

    def __init__(self, world, rng: random.Random, n: int, start_us: int, span_us: int, key: bytes):
        self.w, self.rng, self.key = world, rng, key
        self.fixed = 1 + len({s[6] for s in world.staff})  # orgs.imported, one staff.imported per employer
        self.n = max(n, self.fixed + len(world.grants) + len(world.links))
        self.start, self.end, self.step = start_us, start_us + span_us, max(1, span_us // self.n)
        kinds = bytearray(self.n - self.fixed)
        kinds[:len(world.grants)] = bytes([GRANT]) * len(world.grants)
        kinds[len(world.grants):len(world.grants) + len(world.links)] = bytes([LINK]) * len(world.links)
        rng.shuffle(kinds)
        self.kinds = kinds

    def at(self, i: int) -> int:
        """Event ``i``'s time: evenly spread over the span, strictly increasing."""
        return self.start + i * self.step + (i * 7919) % self.step

    def rows(self, stamp: Callable[[int | None], str | None]) -> Iterator[tuple]:
        prev, dumps = GENESIS, json.dumps
        for i, (action, actor_id, actor, target_type, target_id, org, details) in enumerate(self.events()):
            seq, when = i + 1, instant(self.at(i))
            h = link(self.key, prev, canonical(seq, when, action, actor, actor_id, target_type, target_id,
                                               org, details))
            yield (seq, stamp(self.at(i)), action, actor_id, actor, target_type, target_id, org,
                   dumps(details), prev, h)
            prev = h

    def events(self) -> Iterator[tuple]:
        """(action, actor_id, actor, target_type, target_id, org, details) per event, in order."""
        w, rng = self.w, self.rng
        yield ("orgs.imported", None, "system:cli", "org_import", None, w.orgs[0][1],
               {"created": len(w.orgs), "updated": 0, "unchanged": 0, "rejected": 0})
        employers: dict[int, int] = {}
        for s in w.staff:
            employers[s[6]] = employers.get(s[6], 0) + 1
        for lea, count in sorted(employers.items()):
            yield ("staff.imported", None, "system:cli", "staff_import", f"bench-{w.code(lea)}", None,
                   {"created": count, "updated": 0, "unchanged": 0, "rejected": 0, "source": "cli"})
        users, fillers = w.users, FILLERS
        actions, weights = zip(*fillers, strict=True)
        filler = iter(rng.choices(actions, weights, k=self.kinds.count(FILLER)))
        grants, links = iter(w.grants), iter(w.links)
        for j, kind in enumerate(self.kinds):
            when = self.at(self.fixed + j)
            if kind == GRANT:
                yield self.grant(next(grants), when)
            elif kind == LINK:
                yield self.link(next(links), when)
            else:
                uid = rng.randrange(len(users)) + 1 if users else None
                yield self.filler(next(filler), uid)

    def grant(self, g: list, when: int) -> tuple:
        gid, uid, role, org, status, by = g[:6]
        rng, w = self.rng, self.w
        ends = revoked = None
        if status == "expired":
            ends = min(when + rng.randrange(30, 180) * DAY_US, self.end)
        elif status == "revoked":
            revoked = min(when + rng.randrange(1, 120) * DAY_US, self.end)
        elif rng.random() < 0.1:
            ends = when + 365 * DAY_US
        source = "bootstrap" if by is None else rng.choices(("request", "tas_import"), (85, 15))[0]
        g[6:] = [when, ends, revoked, source]
        actor = w.users[by - 1][3] if by else "system:cli"
        return ("grant.created", by, actor, "grant", str(gid), w.code(org),
                {"user": w.users[uid - 1][3], "role": role, "source": source,
                 "ends_at": instant(ends).isoformat() if ends else None})

    def link(self, row: list, when: int) -> tuple:
        lid, uid, sid = row[:3]
        staff = self.w.staff[sid - 1]
        row[3] = when
        if staff[8] == "terminated":
            row[4], row[5] = min(when + self.rng.randrange(30, 200) * DAY_US, self.end), "staff record terminated"
        username = self.w.users[uid - 1][3]
        return ("link.created", uid, username, "staff_link", str(lid), self.w.code(staff[6]),
                {"staff_id": staff[1], "username": username})

    def filler(self, action: str, uid: int | None) -> tuple:
        rng = self.rng
        user = self.w.users[uid - 1] if uid else None
        username = user[3] if user else "unknown"
        addr = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if action == "user.login" and user:
            return action, uid, username, "user_account", str(uid), None, {"issuer": user[1], "remote_addr": addr}
        if action == "user.logout" and user:
            return action, uid, username, "user_account", str(uid), None, {"reason": "signed_out"}
        if action == "authz.denied" and user:
            org = self.w.orgs[rng.randrange(len(self.w.orgs))][1]
            return action, uid, username, None, None, org, {"permission": rng.choice(PERMISSIONS), "org": org}
        if action == "link.failed" and user:
            staff_id = self.w.staff[rng.randrange(len(self.w.staff))][1]
            return (action, uid, username, "staff_record", staff_id, None,
                    {"staff_id": staff_id, "reason": "link_mismatch"})
        return ("user.login_failed", None, "anonymous", "user_account" if user else None,
                str(uid) if user else None, None,
                {"username": username, "remote_addr": addr, "reason": "bad_password", "locked": False})
