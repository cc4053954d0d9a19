"""Choosing the benchmark items the panel reads per model (pure): fixed by the stage and its seed,
spread over the suites, independent of the order items are listed in."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.experts.sampling import Chosen, capped, choose

STAGE = uuid.UUID(int=7)
SUITES = {uuid.UUID(int=1): [f"a{i}" for i in range(30)], uuid.UUID(int=2): [f"b{i}" for i in range(4)]}


class TestChoose:
    def test_the_same_stage_and_seed_give_the_same_items_whatever_the_listing_order(self) -> None:
        reversed_lists = {suite: list(reversed(items)) for suite, items in reversed(list(SUITES.items()))}
        assert choose(STAGE, 0, SUITES, 6) == choose(STAGE, 0, reversed_lists, 6)

    def test_another_seed_or_stage_gives_another_sample(self) -> None:
        base = choose(STAGE, 0, SUITES, 6)
        assert choose(STAGE, 1, SUITES, 6) != base
        assert choose(uuid.UUID(int=8), 0, SUITES, 6) != base

    def test_the_suites_take_turns_until_a_small_one_runs_out(self) -> None:
        chosen = choose(STAGE, 0, SUITES, 12)
        first_two = {c.suite_id for c in chosen[:2]}
        assert first_two == set(SUITES)
        assert sum(1 for c in chosen if c.suite_id == uuid.UUID(int=2)) == 4
        assert len(chosen) == 12

    @given(
        st.dictionaries(st.uuids(), st.lists(st.text(min_size=1, max_size=8), max_size=20), max_size=5),
        st.integers(min_value=0, max_value=60),
        st.integers(min_value=0, max_value=2**31 - 1),
    )
    def test_never_more_than_asked_or_held_never_twice_never_invented(
        self, suites: dict[uuid.UUID, list[str]], count: int, seed: int
    ) -> None:
        chosen = choose(STAGE, seed, suites, count)
        held = {Chosen(s, i) for s, items in suites.items() for i in items}
        assert len(chosen) == min(count, len(held))
        assert len(set(chosen)) == len(chosen)
        assert set(chosen) <= held


class TestCapped:
    def test_a_long_text_is_cut_and_says_so_a_short_one_is_kept(self) -> None:
        assert capped("가" * 10, 4) == ("가" * 4, True)
        assert capped("short", 5) == ("short", False)
