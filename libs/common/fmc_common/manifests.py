"""The digest of a submission's weights manifest (pure), shared by the registry that computes it when
a team submits and scoring, which checks that the manifest it reads is the one frozen for the stage."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: stable across key order and whitespace, so the same manifest
    always names the same digest."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
