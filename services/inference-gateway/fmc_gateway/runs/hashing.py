"""The content hash of a run's responses (pure), so that scoring can check what it graded.

One canonical JSON line per record, in item order (the order of the items document):
``{"error": ..., "item_id": ..., "status": "ok"|"error", "text": ...}`` with sorted keys, no spaces,
UTF-8, each followed by a newline; the hash is the sha256 of the concatenation. Latencies, attempts
and timestamps are not part of it: the same answers give the same hash, however they were obtained.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable


def record_line(item_id: str, status: str, text: str | None, error: str | None) -> bytes:
    body = {"error": error, "item_id": item_id, "status": status, "text": text}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def responses_digest(records: Iterable[tuple[str, str, str | None, str | None]]) -> str:
    digest = hashlib.sha256()
    for item_id, status, text, error in records:
        digest.update(record_line(item_id, status, text, error))
    return digest.hexdigest()
