"""The hash chain, as pure logic: any altered, removed or reordered entry is found, and where."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from fmc_common.audit import checkpoint
from fmc_common.audit.chain import (
    GENESIS,
    Anchor,
    ChainedFields,
    ChainHead,
    ChainProblem,
    ChainReport,
    ChainVerifier,
    StoredEntry,
)

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def chain(count: int) -> list[StoredEntry]:
    entries: list[StoredEntry] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        fields = ChainedFields(
            seq=seq,
            at=START + timedelta(seconds=seq),
            actor_subject="operator-kim",
            actor_role="operator",
            action="objection.filed",
            entity_type="objection",
            entity_id=f"o-{seq}",
            team_id=None,
            reason=None,
            details={"version": seq, "names": ["a", "b"], "note": "정정"},
            prev_hash=prev,
        )
        prev = fields.hash()
        entries.append(StoredEntry(fields, prev))
    return entries


def verify(entries: list[StoredEntry], head: tuple[int, str] | None = None) -> ChainReport:
    verifier = ChainVerifier()
    verifier.feed(entries)
    if head is None:
        head = (entries[-1].fields.seq, entries[-1].hash) if entries else (0, GENESIS)
    return verifier.finish(*head)


class TestChain:
    def test_an_untouched_chain_is_intact(self) -> None:
        report = verify(chain(5))
        assert report.intact
        assert report.entries_checked == 5

    def test_the_hash_covers_the_previous_hash(self) -> None:
        [first] = chain(1)
        other = dataclasses.replace(first.fields, prev_hash="f" * 64)
        assert other.hash() != first.hash

    def test_canonical_json_does_not_depend_on_key_order(self) -> None:
        [first] = chain(1)
        reordered = dataclasses.replace(
            first.fields, details={"note": "정정", "names": ["a", "b"], "version": 1}
        )
        assert reordered.hash() == first.hash

    def test_an_empty_trail_is_intact_only_with_an_empty_head(self) -> None:
        assert verify([]).intact
        assert verify([], head=(1, "a" * 64)).problem == ChainProblem.HEAD_MISMATCH

    def test_removing_the_last_entries_is_caught_by_the_head(self) -> None:
        entries = chain(5)
        report = verify(entries[:3], head=(5, entries[-1].hash))
        assert (report.intact, report.problem, report.first_broken_seq) == (
            False,
            ChainProblem.HEAD_MISMATCH,
            4,
        )

    def test_removing_a_middle_entry_is_a_sequence_gap(self) -> None:
        entries = chain(5)
        report = verify(entries[:2] + entries[3:], head=(5, entries[-1].hash))
        assert (report.problem, report.first_broken_seq, report.entries_checked) == (
            ChainProblem.SEQUENCE_GAP,
            3,
            2,
        )

    def test_an_entry_rehashed_after_alteration_breaks_the_next_link(self) -> None:
        entries = chain(5)
        forged = dataclasses.replace(entries[2].fields, reason="forged")
        entries[2] = StoredEntry(forged, forged.hash())
        report = verify(entries)
        assert (report.problem, report.first_broken_seq) == (ChainProblem.LINK_BROKEN, 4)

    @given(
        st.integers(min_value=1, max_value=12).flatmap(
            lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n - 1))
        ),
        st.sampled_from(["actor_subject", "action", "entity_id", "reason", "details", "at"]),
    )
    def test_altering_any_field_of_any_entry_is_found_at_that_entry(
        self, size_and_index: tuple[int, int], name: str
    ) -> None:
        size, index = size_and_index
        entries = chain(size)
        original = entries[index].fields
        altered = {
            "actor_subject": dataclasses.replace(original, actor_subject="someone-else"),
            "action": dataclasses.replace(original, action="objection.rejected"),
            "entity_id": dataclasses.replace(original, entity_id="o-x"),
            "reason": dataclasses.replace(original, reason="changed"),
            "details": dataclasses.replace(original, details={"version": 99}),
            "at": dataclasses.replace(original, at=original.at + timedelta(microseconds=1)),
        }[name]
        entries[index] = StoredEntry(altered, entries[index].hash)
        report = verify(entries)
        assert (report.intact, report.problem, report.first_broken_seq) == (
            False,
            ChainProblem.HASH_MISMATCH,
            index + 1,
        )
        assert report.entries_checked == index


def rechained(entries: list[StoredEntry], start: int) -> list[StoredEntry]:
    """The entries from index ``start`` rewritten and every later hash recomputed, as an attacker would."""
    result = entries[:start]
    prev = result[-1].hash if result else GENESIS
    for entry in entries[start:]:
        fields = dataclasses.replace(entry.fields, reason="rewritten", prev_hash=prev)
        prev = fields.hash()
        result.append(StoredEntry(fields, prev))
    return result


class TestAnchor:
    def test_the_report_names_the_head_it_verified(self) -> None:
        entries = chain(4)
        report = verify(entries)
        assert report.head == ChainHead(4, entries[-1].hash, entries[-1].fields.at)

    def test_a_broken_chain_names_the_last_entry_found_intact(self) -> None:
        entries = chain(4)
        entries[2] = StoredEntry(dataclasses.replace(entries[2].fields, reason="x"), entries[2].hash)
        report = verify(entries)
        assert report.head == ChainHead(2, entries[1].hash, entries[1].fields.at)

    def test_an_empty_trail_verifies_the_genesis_head(self) -> None:
        assert verify([]).head == ChainHead(0, GENESIS, None)

    def test_an_untouched_chain_holds_an_earlier_anchor_and_its_own_head(self) -> None:
        entries = chain(6)
        for anchored in (entries[2], entries[-1]):
            verifier = ChainVerifier(Anchor(anchored.fields.seq, anchored.hash))
            verifier.feed(entries)
            assert verifier.finish(6, entries[-1].hash).intact

    def test_a_rewound_tail_is_caught_by_an_anchor_after_it(self) -> None:
        entries = chain(6)
        kept = entries[:3]  # entries 4..6 removed, the head rewound to 3: intact on its own
        assert verify(kept).intact
        verifier = ChainVerifier(Anchor(5, entries[4].hash))
        verifier.feed(kept)
        report = verifier.finish(3, kept[-1].hash)
        assert (report.intact, report.problem, report.first_broken_seq, report.entries_checked) == (
            False,
            ChainProblem.ANCHOR_MISMATCH,
            5,
            3,
        )

    @given(st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=6))
    def test_a_rechained_tail_is_caught_by_any_anchor_inside_it(self, start: int, anchor_seq: int) -> None:
        entries = chain(6)
        forged = rechained(entries, start)
        assert verify(forged).intact
        verifier = ChainVerifier(Anchor(anchor_seq, entries[anchor_seq - 1].hash))
        verifier.feed(forged)
        report = verifier.finish(6, forged[-1].hash)
        if anchor_seq <= start:  # the anchor is before the rewritten part: still held
            assert report.intact
        else:
            assert (report.problem, report.first_broken_seq) == (ChainProblem.ANCHOR_MISMATCH, anchor_seq)


class TestCheckpointSignature:
    KEY = b"k" * 32

    def test_the_signature_covers_trail_sequence_hash_and_time(self) -> None:
        head = ChainHead(5, "ab" * 32, START)
        signature = checkpoint.sign(self.KEY, "grievance", head)
        assert checkpoint.signature_valid(self.KEY, "grievance", head, signature)
        for other in (
            dataclasses.replace(head, seq=4),
            dataclasses.replace(head, hash="cd" * 32),
            dataclasses.replace(head, at=START + timedelta(microseconds=1)),
        ):
            assert not checkpoint.signature_valid(self.KEY, "grievance", other, signature)
        assert not checkpoint.signature_valid(self.KEY, "scoring", head, signature)
        assert not checkpoint.signature_valid(b"x" * 32, "grievance", head, signature)

    def test_the_signed_bytes_are_the_documented_canonical_json(self) -> None:
        head = ChainHead(5, "ab" * 32, START)
        assert checkpoint.signed_bytes("grievance", head) == (
            b'{"at":"2026-12-01T01:00:00.000000+00:00","hash":"'
            + b"ab" * 32
            + b'","seq":5,"trail":"grievance"}'
        )
