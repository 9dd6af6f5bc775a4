"""Verify the audit chain: walk every event in sequence order and say where it first breaks.

The walk keeps ``expected`` (the previous event's seq + 1; 1 at the start) and ``link`` (the
previous event's stored hash; GENESIS at the start). An event is *genuine* when its stored
``hash`` equals HMAC(key, stored ``prev_hash`` ‖ canonical(event)) (see audit.chain). The first
event that fails decides the result, in this order:

``missing``
    The next event present has ``seq > expected``: nothing carries the number ``expected``
    (events were deleted); reported at ``expected``. Also an event that is genuine for
    another seq while the event it was chained to is nowhere in the trail (an event was
    deleted and the later ones renumbered to close the gap); reported at its current seq.
``reordered``
    An event that is genuine for another seq ``s`` (it was moved from ``s``) while the event it
    was chained to is still in the trail; or a genuine event whose ``prev_hash`` is the hash of
    an event other than the one before it. Reported at the event's current seq.
``inserted``
    An event that is not part of the chain: a copy of an event still present at its own seq (a
    replay); a row whose hash is neither genuine nor named by the next event's ``prev_hash``
    (a forgery; a row added in the middle pushes the genuine ones up and breaks them too); or
    a genuine event whose ``prev_hash`` names no event in the trail.
``altered``
    An event that is not genuine but still sits in its place in the chain: its stored hash is
    genuine with the previous event's hash as ``prev_hash`` (only ``prev_hash`` was changed), or
    the next event's ``prev_hash`` names its stored hash (or the hash its content would have),
    or, for the head, its ``prev_hash`` is the previous event's hash. At the head an altered event cannot be told
    apart from one appended without the key; both are reported as ``altered``.

Against a checkpoint (audit.checkpoint), after the chain itself verifies up to that point:

``rewritten``
    The event at the checkpoint's seq does not have the checkpoint's hash: the trail up to
    there was replaced (for example deleted and re-appended as a fresh chain); reported at
    the checkpoint's seq.
``truncated``
    The trail ends before the checkpoint's seq; reported at the first seq that is gone.

Without a checkpoint, events removed from the end (or a whole trail rebuilt with the key) are
undetectable: keep checkpoints outside the database.

Speed: rows are read as plain tuples straight from the driver in keyset-paged batches (never
the whole table, never ORM objects), the time already in canonical form from SQL; the canonical
bytes are built with a string template equal to audit.chain.canonical, and the HMAC uses
precomputed pads (RFC 2104). A row the fast path cannot take as is (an unusual stored time, an
unexpected type) and every row under diagnosis is read back through the ORM's own column types
and serialised by audit.chain.canonical, so what verifies is exactly what the application reads.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, Protocol

from audit.chain import GENESIS, canonical
from audit.models import AuditEvent
from edlink.extensions import db

BATCH = 20_000
PROBLEMS = ("altered", "missing", "reordered", "inserted", "truncated", "rewritten")

_COLUMNS = "seq, {stamp}, action, actor, actor_id, target_type, target_id, org_code, {details}, prev_hash, hash"
_DIALECTS = {
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (edlink.types);
    # anything else comes back NULL and takes the ORM path.
    "sqlite": ("CASE WHEN length(occurred_at) = 26 AND substr(occurred_at, 11, 1) = ' ' THEN "
               "substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z' END", "details", "?"),
    "postgresql": ("to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                   "details::text", "%s"),
}
_TEMPLATE = ('{"action":%s,"actor":%s,"actor_id":%s,"details":%s,"occurred_at":"%s","org":%s,'
             '"seq":%d,"target_id":%s,"target_type":%s}')
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_SEQ, _STAMP, _PREV, _HASH = 0, 1, 9, 10


class Mark(Protocol):
    seq: int
    hash: str


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    occurred_at: str | None  # canonical UTC stamp, as hashed

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "occurred_at": self.occurred_at}


@dataclass(frozen=True)
class VerifyResult:
    """``count`` events verified; ``head`` the last one that verified (on failure: the last good
    one before the break). On failure ``bad_seq`` and ``problem`` (one of PROBLEMS) say where
    and what, ``message`` in words."""

    ok: bool
    count: int
    head: Head | None
    bad_seq: int | None = None
    problem: str | None = None
    message: str = ""
    checkpoint_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "count": self.count, "head": self.head.as_dict() if self.head else None,
                "bad_seq": self.bad_seq, "problem": self.problem, "message": self.message,
                "checkpoint_seq": self.checkpoint_seq}

    def line(self) -> str:
        if not self.ok:
            return f"audit trail broken at seq {self.bad_seq}: {self.problem} ({self.message})"
        if self.head is None:
            return "audit trail intact: 0 events"
        against = f"; matches the checkpoint at seq {self.checkpoint_seq}" if self.checkpoint_seq else ""
        return (f"audit trail intact: {self.count} events; head seq {self.head.seq} "
                f"hash {self.head.hash} at {self.head.occurred_at}{against}")


def _pads(key: bytes) -> tuple[Any, Any]:
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def hmac_sha256(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 (hex) under ``key`` with the pads hashed once: about 3x hmac.new per call."""
    inner, outer = _pads(key)

    def mac(data: bytes) -> str:
        i = inner.copy()
        i.update(data)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()
    return mac


class _Trail:
    """Reads the audit table: raw driver tuples for the walk, ORM-typed values for diagnosis."""

    def __init__(self):
        conn = db.session.connection()
        self.dialect = conn.dialect.name
        stamp, details, self.mark = _DIALECTS.get(self.dialect, ("NULL", "details", "?"))
        self.driver = conn.connection.driver_connection
        self.select = "SELECT " + _COLUMNS.format(stamp=stamp, details=details) + " FROM audit_event "
        self.pending: Future | None = None

    def _fetch(self, where: str, params: tuple) -> list[tuple]:
        cursor = self.driver.cursor(binary=True) if self.dialect == "postgresql" else self.driver.cursor()
        try:
            cursor.execute(self.select + where.replace("?", self.mark), params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def batch(self, after: int, size: int) -> list[tuple]:
        return self._fetch("WHERE seq > ? ORDER BY seq LIMIT ?", (after, size))

    def batches(self, size: int) -> Iterator[list[tuple]]:
        """Every row in seq order, ``size`` at a time. On PostgreSQL the next batch is fetched in
        a helper thread while the caller hashes this one (the server works meanwhile)."""
        pool = ThreadPoolExecutor(1) if self.dialect == "postgresql" else None
        try:
            rows = self.batch(0, size)
            while rows:
                more = len(rows) == size
                if more and pool is not None:
                    self.pending = pool.submit(self.batch, rows[-1][_SEQ], size)
                yield rows
                if not more:
                    return
                rows = self.settle() if pool is not None else self.batch(rows[-1][_SEQ], size)
        finally:
            self.settle()
            if pool is not None:
                pool.shutdown()

    def settle(self) -> list[tuple]:
        """The batch being fetched, once it is here. (psycopg connections are thread-safe: a query
        the caller makes meanwhile waits its turn.)"""
        pending, self.pending = self.pending, None
        return pending.result() if pending is not None else []

    def where(self, column: str, value: Any) -> list[tuple]:
        return self._fetch(f"WHERE {column} = ? ORDER BY seq", (value,))

    def at(self, seq: int) -> tuple | None:
        rows = self.where("seq", seq)
        return rows[0] if rows else None


def _exact(seq: int, as_seq: int | None = None, prev: str | None = None) -> bytes:
    """prev_hash ‖ canonical bytes of event ``seq`` as the ORM reads it (optionally as if it
    carried another seq or prev_hash): the reference the fast path must agree with."""
    e = db.session.execute(db.select(
        AuditEvent.occurred_at, AuditEvent.action, AuditEvent.actor, AuditEvent.actor_id,
        AuditEvent.target_type, AuditEvent.target_id, AuditEvent.org_code, AuditEvent.details,
        AuditEvent.prev_hash).where(AuditEvent.seq == seq)).one()
    prev = e.prev_hash if prev is None else prev
    return str(prev or "").encode("ascii", "replace") + canonical(
        seq if as_seq is None else as_seq, e.occurred_at, e.action, e.actor, e.actor_id,
        e.target_type, e.target_id, e.org_code, e.details)


def _genuine(mac: Callable[[bytes], str], row: tuple, as_seq: int | None = None, prev: str | None = None) -> bool:
    try:
        return mac(_exact(row[_SEQ], as_seq, prev)) == row[_HASH]
    except (TypeError, ValueError, AttributeError, LookupError, RecursionError):
        return False


def _head(row: tuple | None) -> Head | None:
    if row is None:
        return None
    stamp = row[_STAMP]
    if stamp is None:  # stored in an unusual form: say it as the ORM reads it
        at = db.session.execute(db.select(AuditEvent.occurred_at).where(AuditEvent.seq == row[_SEQ])).scalar_one()
        stamp = at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return Head(row[_SEQ], row[_HASH], stamp)


def verify(key: bytes | str, checkpoint: Mark | None = None, *, batch: int = BATCH) -> VerifyResult:
    """Walk the whole trail in seq order (see the module documentation for the problem kinds)."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    mac = hmac_sha256(key)
    inner, outer = _pads(key)
    trail = _Trail()
    cp_seq = checkpoint.seq if checkpoint is not None and checkpoint.seq > 0 else None
    expected, link, count, head = 1, GENESIS, 0, None
    template, encode, enc_str, loads = _TEMPLATE, _ENCODE, encode_basestring, json.loads

    def broken(seq: int, problem: str, message: str) -> VerifyResult:
        return VerifyResult(False, count, _head(head), seq, problem, message, cp_seq)

    for rows in trail.batches(batch):
        for row in rows:
            seq, stamp, action, actor, actor_id, target_type, target_id, org, details, prev, h = row
            if seq != expected:
                return broken(expected, "missing", f"no event carries seq {expected}; the next present is {seq}")
            try:  # the hot path: audit.chain.canonical by template, HMAC from the precomputed pads
                if stamp is None or (actor_id is not None and type(actor_id) is not int):
                    raise TypeError
                i = inner.copy()
                i.update((prev + template % (
                    enc_str(action), enc_str(actor), "null" if actor_id is None else actor_id,
                    "{}" if details == "{}" else encode(loads(details) or {}), stamp,
                    "null" if org is None else enc_str(org), seq,
                    "null" if target_id is None else enc_str(target_id),
                    "null" if target_type is None else enc_str(target_type))).encode("utf-8"))
                o = outer.copy()
                o.update(i.digest())
                genuine = o.hexdigest() == h
            except (TypeError, ValueError, RecursionError):
                genuine = False
            if not genuine and not _genuine(mac, row):
                return broken(*_diagnose(trail, mac, row, link))
            if prev != link:
                named = trail.where("hash", prev) if prev else []
                if named:
                    return broken(seq, "reordered", f"event {seq} is chained after event {named[0][0]}, "
                                                    f"not after event {seq - 1}")
                return broken(seq, "inserted", f"event {seq} is chained to an event that is not in the trail")
            if seq == cp_seq and h != checkpoint.hash:
                return broken(seq, "rewritten", f"event {seq} is not the one the checkpoint recorded; "
                                                "the trail was rewritten up to there")
            expected, link, count, head = seq + 1, h, count + 1, row
    if cp_seq is not None and cp_seq >= expected:
        return VerifyResult(False, count, _head(head), expected, "truncated",
                            f"the trail ends at seq {expected - 1}, the checkpoint recorded seq {cp_seq}", cp_seq)
    return VerifyResult(True, count, _head(head), checkpoint_seq=cp_seq)


def _diagnose(trail: _Trail, mac: Callable[[bytes], str], row: tuple, link: str) -> tuple[int, str, str]:
    """Why is this event (in its expected place, with a hash that does not verify) wrong?"""
    seq, prev, h = row[_SEQ], row[_PREV], row[_HASH]
    before = trail.where("hash", prev) if prev and prev != GENESIS else []
    after = trail.where("prev_hash", h) if h else []
    candidates = {seq - 1, seq + 1} | {r[_SEQ] + 1 for r in before} | {r[_SEQ] - 1 for r in after}
    if prev == GENESIS:
        candidates.add(1)
    for origin in sorted(c for c in candidates if c > 0 and c != seq):
        if not _genuine(mac, row, as_seq=origin):
            continue
        there = trail.at(origin)
        if there is not None and there[_HASH] == h:
            return seq, "inserted", f"event {seq} is a copy of event {origin}"
        if prev != GENESIS and not before:
            return seq, "missing", (f"event {seq} was numbered {origin} and the event before it is gone: "
                                    "events were deleted and the rest renumbered")
        return seq, "reordered", f"event {seq} was the event numbered {origin}: events were moved"
    if prev != link and _genuine(mac, row, prev=link):
        return seq, "altered", f"event {seq} had its prev_hash changed"
    nxt = trail.at(seq + 1)
    if nxt is not None:
        try:
            content_hash = mac(_exact(seq))
        except (TypeError, ValueError, AttributeError, LookupError, RecursionError):
            content_hash = None
        if nxt[_PREV] in (h, content_hash):
            return seq, "altered", f"event {seq} does not match its hash: it was changed after it was written"
    elif prev == link:
        return seq, "altered", (f"event {seq} (the head) does not match its hash: it was changed, "
                                "or appended without the audit key")
    return seq, "inserted", f"event {seq} is not part of the chain: it was added without the audit key"
