"""Signed checkpoints of a hash-chained trail, as pure functions (no web framework, no database).

A checkpoint states a head (sequence number, hash, time of that entry) of one trail, signed with
HMAC-SHA256 under a key only the service and the keepers of the checkpoints hold. A keeper (a
partner, an object store's writer) checks the signature before keeping it, so a checkpoint cannot be
slipped into its copy by someone who only reaches the broker; later, any checkpoint it kept is an
``Anchor`` the chain must still hold (``audit.chain``).

What is signed is the canonical JSON of ``{"trail", "seq", "hash", "at"}`` (keys sorted, no
insignificant whitespace, the instant as RFC 3339 in UTC with microseconds), so a keeper in any
language can recompute it. Worked example: trail ``grievance``, seq 5, hash ``ab…``, at
2026-12-01T01:00:00Z signs the bytes
``{"at":"2026-12-01T01:00:00.000000+00:00","hash":"ab…","seq":5,"trail":"grievance"}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC

from fmc_common.audit.chain import ChainHead

ALGORITHM = "hmac-sha256"


def signed_bytes(trail: str, head: ChainHead) -> bytes:
    """The canonical bytes a checkpoint's signature covers."""
    body = {
        "trail": trail,
        "seq": head.seq,
        "hash": head.hash,
        "at": head.at.astimezone(UTC).isoformat(timespec="microseconds") if head.at else None,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(key: bytes, trail: str, head: ChainHead) -> str:
    """The checkpoint's signature, as lowercase hex."""
    return hmac.new(key, signed_bytes(trail, head), hashlib.sha256).hexdigest()


def signature_valid(key: bytes, trail: str, head: ChainHead, signature: str) -> bool:
    """Whether ``signature`` was made with ``key`` over this head (compared in constant time)."""
    return hmac.compare_digest(sign(key, trail, head), signature)
