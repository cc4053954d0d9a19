"""The hash chain of the audit trail, as pure functions (no web framework, no database).

Each entry's hash is ``sha256(previous hash + canonical JSON of the entry)``; the first entry's
previous hash is ``GENESIS``. Canonical JSON: keys sorted, no insignificant whitespace, UTF-8,
instants as RFC 3339 in UTC with microseconds. Altering, removing or reordering a stored entry
changes a hash that every later entry depends on; the head (the last sequence number and hash,
kept apart from the entries) also catches entries removed from the end.

Someone who can write the database can still rewind the head with the entries it drops, or rewrite
the tail and recompute every hash after it: the chain is then intact again, only different. What
catches that is an *anchor*, a head seen earlier and kept elsewhere (``audit.checkpoint``): the chain
must still hold that entry, with that hash, at that sequence number.
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
    ANCHOR_MISMATCH = "anchor-mismatch"  # the entry an anchor names is gone or has another hash


@dataclass(frozen=True)
class ChainHead:
    """An entry's place in the chain: its sequence number, its hash and when it was written.

    The empty chain's head is ``(0, GENESIS, None)``.
    """

    seq: int
    hash: str
    at: datetime | None = None


EMPTY_HEAD = ChainHead(0, GENESIS)


@dataclass(frozen=True)
class Anchor:
    """A head seen earlier and kept outside the database (a checkpoint): the chain must still hold it."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    entries_checked: int
    first_broken_seq: int | None = None
    problem: ChainProblem | None = None
    # The last entry found intact: the head verified when the chain is intact.
    head: ChainHead = EMPTY_HEAD


@dataclass(frozen=True)
class StoredEntry:
    fields: ChainedFields
    hash: str


class ChainVerifier:
    """Feed entries in ``seq`` order (in batches, if the trail is long), then ``finish`` with the head.

    With an ``anchor``, the entry at the anchor's sequence number must have the anchor's hash, and
    must still exist when the chain ends.
    """

    def __init__(self, anchor: Anchor | None = None) -> None:
        self._expected_seq = 1
        self._head = EMPTY_HEAD
        self._checked = 0
        self._broken: ChainReport | None = None
        self._anchor = anchor

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
        elif entry.fields.prev_hash != self._head.hash:
            self._break(seq, ChainProblem.LINK_BROKEN)
        elif entry.fields.hash() != entry.hash:
            self._break(seq, ChainProblem.HASH_MISMATCH)
        elif self._anchor is not None and self._anchor.seq == seq and self._anchor.hash != entry.hash:
            # The entry is consistent with the ones before it, yet not the one anchored: re-chained.
            self._break(seq, ChainProblem.ANCHOR_MISMATCH)
        else:
            self._checked += 1
            self._expected_seq += 1
            self._head = ChainHead(seq, entry.hash, entry.fields.at)

    def _break(self, seq: int, problem: ChainProblem) -> None:
        self._broken = ChainReport(False, self._checked, seq, problem, self._head)

    def finish(self, head_seq: int, head_hash: str) -> ChainReport:
        if self._broken is not None:
            return self._broken
        if head_seq != self._head.seq or head_hash != self._head.hash:
            return ChainReport(
                False, self._checked, self._expected_seq, ChainProblem.HEAD_MISMATCH, self._head
            )
        if self._anchor is not None and self._anchor.seq > self._head.seq:
            # The chain ends before the anchored entry: the tail was dropped and the head rewound.
            return ChainReport(
                False, self._checked, self._anchor.seq, ChainProblem.ANCHOR_MISMATCH, self._head
            )
        return ChainReport(True, self._checked, head=self._head)
