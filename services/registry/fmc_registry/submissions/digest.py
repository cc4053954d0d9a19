"""The digest of a weights manifest (pure): SHA-256 of its canonical JSON."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def manifest_digest(manifest: dict[str, Any]) -> str:
    """Stable across key order and whitespace, so the same manifest always names the same digest."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
