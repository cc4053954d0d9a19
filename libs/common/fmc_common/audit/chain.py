"""The hash chain of the audit trail, as pure functions (no web framework, no database).

Each entry's hash is ``sha256(previous hash + canonical JSON of the entry)``; the first entry's
previous hash is ``GENESIS``. Canonical JSON: keys sorted, no insignificant whitespace, UTF-8,
instants as RFC 3339 in UTC with microseconds. Altering, removing or reordering a stored entry
changes a hash that every later entry depends on; the head (the last sequence number and hash,
kept apart from the entries) also catches entries removed from the end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainedFields:
    """What an entry's hash covers (everything stored but the hash itself)."""

    seq: int
    at: datetime
    actor_subject: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    team_id: str | None
    reason: str | None
    details: Mapping[str, Any]
    prev_hash: str

    def canonical(self) -> bytes:
        body = {
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_subject": self.actor_subject,
            "actor_role": self.actor_role,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "team_id": self.team_id,
            "reason": self.reason,
            "details": self.details,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def hash(self) -> str:
        return hashlib.sha256(self.prev_hash.encode() + self.canonical()).hexdigest()


class ChainProblem(StrEnum):
    HASH_MISMATCH = "hash-mismatch"  # the entry's content no longer gives its hash: altered
    LINK_BROKEN = "link-broken"  # the entry does not point at the previous entry's hash
    SEQUENCE_GAP = "sequence-gap"  # an entry is missing (removed) or out of order
    HEAD_MISMATCH = "head-mismatch"  # the last entries were removed, or the head was altered


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    entries_checked: int
    first_broken_seq: int | None = None
    problem: ChainProblem | None = None


@dataclass(frozen=True)
class StoredEntry:
    fields: ChainedFields
    hash: str


class ChainVerifier:
    """Feed entries in ``seq`` order (in batches, if the trail is long), then ``finish`` with the head."""

    def __init__(self) -> None:
        self._expected_seq = 1
        self._prev_hash = GENESIS
        self._checked = 0
        self._broken: ChainReport | None = None

    @property
    def broken(self) -> ChainReport | None:
        return self._broken

    def feed(self, entries: Iterable[StoredEntry]) -> None:
        for entry in entries:
            if self._broken is not None:
                return
            self._check(entry)

    def _check(self, entry: StoredEntry) -> None:
        seq = entry.fields.seq
        if seq != self._expected_seq:
            self._break(self._expected_seq, ChainProblem.SEQUENCE_GAP)
        elif entry.fields.prev_hash != self._prev_hash:
            self._break(seq, ChainProblem.LINK_BROKEN)
        elif entry.fields.hash() != entry.hash:
            self._break(seq, ChainProblem.HASH_MISMATCH)
        else:
            self._checked += 1
            self._expected_seq += 1
            self._prev_hash = entry.hash

    def _break(self, seq: int, problem: ChainProblem) -> None:
        self._broken = ChainReport(False, self._checked, seq, problem)

    def finish(self, head_seq: int, head_hash: str) -> ChainReport:
        if self._broken is not None:
            return self._broken
        if head_seq != self._expected_seq - 1 or head_hash != self._prev_hash:
            return ChainReport(False, self._checked, self._expected_seq, ChainProblem.HEAD_MISMATCH)
        return ChainReport(True, self._checked)
