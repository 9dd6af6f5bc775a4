"""The keyed hash chain over audit events.

Canonical serialisation of an event (what an auditor re-implements to verify the trail):
a JSON object with exactly the keys ``seq, occurred_at, action, actor, actor_id, target_type,
target_id, org, details``; ``occurred_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC; keys
sorted, separators ``,`` and ``:`` with no spaces, non-ASCII kept as UTF-8; encoded as UTF-8.

``hash = hex(HMAC-SHA256(key, prev_hash_hex_ascii || canonical_bytes))`` where ``prev_hash`` of
the first event is 64 ASCII zeros.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
from typing import Any

GENESIS = "0" * 64


def canonical(seq: int, occurred_at: _dt.datetime, action: str, actor: str, actor_id: int | None,
              target_type: str | None, target_id: str | None, org: str | None,
              details: dict[str, Any] | None) -> bytes:
    stamp = occurred_at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = {
        "seq": seq, "occurred_at": stamp, "action": action, "actor": actor, "actor_id": actor_id,
        "target_type": target_type, "target_id": target_id, "org": org, "details": details or {},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def link(key: bytes, prev_hash: str, payload: bytes) -> str:
    return hmac.new(key, prev_hash.encode("ascii") + payload, hashlib.sha256).hexdigest()


def event_hash(key: bytes, prev_hash: str, event) -> str:
    return link(key, prev_hash, canonical(
        event.seq, event.occurred_at, event.action, event.actor, event.actor_id,
        event.target_type, event.target_id, event.org_code, event.details))
