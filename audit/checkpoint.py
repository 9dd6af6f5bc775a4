"""Checkpoints: the head of a verified trail as a small signed JSON document kept elsewhere.

``{"hash": ..., "occurred_at": ..., "seq": ..., "signature": ...}`` where ``signature`` is
hex(HMAC-SHA256(audit key, canonical JSON of the other three fields)), the canonical JSON
being keys sorted, separators ``,`` and ``:``, UTF-8. (An event's HMAC input starts with a hex
digit, a checkpoint's with ``{``, so one can never pass for the other.) An empty trail's
checkpoint is ``seq 0`` with the GENESIS hash and no time.

Verifying against a checkpoint (audit.verify) detects a trail that was truncated below it or
rewritten from the start since it was taken, which the chain alone cannot show.
"""
from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from audit.chain import GENESIS
from audit.verify import hmac_sha256, verify

_HEX64 = re.compile(r"[0-9a-f]{64}")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, incomplete, or its signature does not match."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    occurred_at: str | None
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "occurred_at": self.occurred_at, "signature": self.signature}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _key(key: bytes | str) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def sign(key: bytes | str, seq: int, hash_: str, occurred_at: str | None) -> str:
    body = json.dumps({"seq": seq, "hash": hash_, "occurred_at": occurred_at},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac_sha256(_key(key))(body.encode("utf-8"))


def make_checkpoint(key: bytes | str) -> Checkpoint:
    """Verify the whole trail and sign its head; a trail that does not verify gets no checkpoint."""
    result = verify(key)
    if not result.ok:
        raise CheckpointError(f"no checkpoint for a broken trail: {result.line()}")
    seq, hash_, at = (result.head.seq, result.head.hash, result.head.occurred_at) if result.head else (0, GENESIS, None)
    return Checkpoint(seq, hash_, at, sign(key, seq, hash_, at))


def load_checkpoint(text: str | bytes, key: bytes | str) -> Checkpoint:
    """Parse a checkpoint document and check its signature with the audit key."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"the checkpoint is not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise CheckpointError("the checkpoint is not a JSON object")
    missing = sorted({"seq", "hash", "occurred_at", "signature"} - doc.keys())
    if missing:
        raise CheckpointError("the checkpoint lacks " + ", ".join(missing))
    seq, hash_, at, signature = doc["seq"], doc["hash"], doc["occurred_at"], doc["signature"]
    if type(seq) is not int or seq < 0:
        raise CheckpointError("the checkpoint's seq is not a non-negative integer")
    if not isinstance(hash_, str) or not _HEX64.fullmatch(hash_):
        raise CheckpointError("the checkpoint's hash is not 64 hex digits")
    if at is not None and not isinstance(at, str):
        raise CheckpointError("the checkpoint's occurred_at is not a string")
    if (not isinstance(signature, str) or not _HEX64.fullmatch(signature)
            or not hmac.compare_digest(signature, sign(key, seq, hash_, at))):
        raise CheckpointError("the checkpoint's signature does not match: it was altered, "
                              "or made with another audit key")
    return Checkpoint(seq, hash_, at, signature)
