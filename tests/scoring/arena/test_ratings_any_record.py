"""Ratings that always exist and say how sure they are: one-sided records, a single vote, groups
that never met, and a sparse arena within a memory bound (issue 18, item 1 and 2; pure)."""

from __future__ import annotations

import tracemalloc
import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fmc_scoring.arena import bradley_terry as bt
from fmc_scoring.arena.standings import Choice, Tally, standings

IntArray = NDArray[np.int64]


def one_sided(wins: int) -> bt.UniqueRows:
    """Model 0 beat model 1 in every one of ``wins`` votes."""
    return bt.unique_rows(
        np.zeros(wins, dtype=np.int64), np.ones(wins, dtype=np.int64), np.full(wins, bt.A_WINS), 2
    )


def field(models: int, votes: int, seed: int) -> tuple[IntArray, IntArray, IntArray]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0.0, 120.0, models)
    a = rng.integers(0, models, votes)
    b = (a + rng.integers(1, models, votes)) % models
    p_a = 1.0 / (1.0 + np.power(10.0, (strength[b] - strength[a]) / 400.0))
    outcome = np.where(rng.random(votes) < p_a, bt.A_WINS, bt.B_WINS)
    return a.astype(np.int64), b.astype(np.int64), outcome.astype(np.int64)


class TestOneSidedRecords:
    def test_thirty_nil_gives_a_finite_sane_gap_and_a_truthful_convergence(self) -> None:
        rated = bt.rate(one_sided(30), rounds=200, seed=1)
        gap = rated.rating[0] - rated.rating[1]
        assert rated.converged
        assert 500.0 < gap < 1000.0  # about 745 points: a 98.6 % chance, not 6,463 points
        assert rated.rating.mean() == pytest.approx(bt.INIT_RATING)
        assert rated.prior_sd == bt.PRIOR_SD

    def test_more_one_sided_wins_widen_the_gap_but_it_stays_bounded(self) -> None:
        gaps = [np.ptp(bt.fit(one_sided(n))[0][0]) for n in (1, 5, 30, 300)]
        assert gaps == sorted(gaps)
        assert gaps[0] == pytest.approx(291.0, abs=2.0)  # one vote: about 300 points, as documented
        assert gaps[-1] < 1500.0

    def test_a_model_that_won_every_battle_lies_within_its_own_interval(self) -> None:
        a, b, outcome = field(5, 400, seed=3)
        champion = (a == 0) | (b == 0)
        outcome = np.where(champion, np.where(a == 0, bt.A_WINS, bt.B_WINS), outcome)
        rated = bt.rate(bt.unique_rows(a, b, outcome, 5), rounds=300, seed=2)
        assert rated.converged
        assert np.all(rated.lower <= rated.rating)
        assert np.all(rated.rating <= rated.upper)
        assert rated.rank[0] == 1

    def test_every_interval_holds_its_point_on_a_sparse_arena(self) -> None:
        a, b, outcome = field(40, 300, seed=9)
        rated = bt.rate(bt.unique_rows(a, b, outcome, 40), rounds=200, seed=9)
        assert np.all(rated.lower <= rated.rating)
        assert np.all(rated.rating <= rated.upper)


@st.composite
def records(draw: st.DrawFn) -> tuple[int, IntArray, IntArray, IntArray]:
    """Any record: one-sided, sparse, disconnected, with or without ties."""
    k = draw(st.integers(2, 6))
    pairs = st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)).filter(lambda p: p[0] != p[1])
    votes = draw(
        st.lists(st.tuples(pairs, st.sampled_from([bt.B_WINS, bt.TIE, bt.A_WINS])), min_size=1, max_size=60)
    )
    a = np.array([p[0] for p, _ in votes], dtype=np.int64)
    b = np.array([p[1] for p, _ in votes], dtype=np.int64)
    return k, a, b, np.array([o for _, o in votes], dtype=np.int64)


class TestAnyRecord:
    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(record=records())
    def test_any_record_has_converged_finite_ratings_inside_their_intervals(
        self, record: tuple[int, IntArray, IntArray, IntArray]
    ) -> None:
        k, a, b, outcome = record
        rated = bt.rate(bt.unique_rows(a, b, outcome, k), rounds=40, seed=0)
        assert rated.converged
        assert np.all(np.isfinite(rated.rating))
        assert np.all((rated.lower <= rated.rating) & (rated.rating <= rated.upper))
        assert np.all(np.abs(rated.rating - bt.INIT_RATING) < 2000.0)
        assert rated.rating.mean() == pytest.approx(bt.INIT_RATING)


class TestSingleVote:
    def test_one_won_vote_neither_moves_the_field_nor_ranks_its_model_alone_at_the_top(self) -> None:
        """The newcomer's rating is balanced by the others' mean (the mean stays 1,000, as in
        Chatbot Arena): a common shift of (its rating - 1,000) / the other models, which changes no
        difference between them; the differences move by the one loss of the model it beat."""
        a, b, outcome = field(4, 1200, seed=5)
        before = bt.rate(bt.unique_rows(a, b, outcome, 5), rounds=300, seed=4)
        a1, b1 = np.append(a, 4), np.append(b, 0)
        after = bt.rate(bt.unique_rows(a1, b1, np.append(outcome, bt.A_WINS), 5), rounds=300, seed=4)
        assert after.converged
        newcomer = after.rating[4]
        shift = after.rating[1:4] - before.rating[1:4]
        assert np.ptp(shift) < 1.0  # the others' differences are unchanged
        assert np.abs(shift).max() < 50.0  # and their common shift is small (it was 200 points)
        assert np.mean(shift) == pytest.approx(-(newcomer - bt.INIT_RATING) / 4, abs=0.5)
        assert after.rating[0] - after.rating[1] < before.rating[0] - before.rating[1]
        assert after.rating[0] - after.rating[1] > before.rating[0] - before.rating[1] - 10.0
        assert 1000.0 < newcomer < after.rating[0] + 400.0
        assert after.upper[4] - after.lower[4] > 200.0  # one vote says little, and the interval says so
        assert np.sum(after.rank == 1) > 1  # sharing the top rank, not holding it alone


class TestGroupsThatNeverMet:
    def test_two_groups_get_ratings_centred_on_the_prior_and_are_counted(self) -> None:
        a = np.array([0, 0, 1, 2, 2, 2], dtype=np.int64)
        b = np.array([1, 1, 0, 3, 3, 3], dtype=np.int64)
        outcome = np.array([bt.A_WINS, bt.A_WINS, bt.A_WINS, bt.A_WINS, bt.A_WINS, bt.A_WINS])
        rated = bt.rate(bt.unique_rows(a, b, outcome, 4), rounds=200, seed=0)
        assert rated.converged
        assert rated.groups == 2
        assert np.all(np.isfinite(rated.rating))
        assert rated.rating[:2].mean() == pytest.approx(bt.INIT_RATING)
        assert rated.rating[2:].mean() == pytest.approx(bt.INIT_RATING)
        assert rated.rating[0] > rated.rating[1]
        assert rated.rating[2] > rated.rating[3]

    def test_a_connected_arena_is_one_group(self) -> None:
        a, b, outcome = field(6, 500, seed=1)
        assert bt.groups(bt.unique_rows(a, b, outcome, 6)) == 1


class TestStandings:
    def test_five_won_votes_do_not_make_a_perfect_user_score(self) -> None:
        winner, loser = uuid.uuid4(), uuid.uuid4()
        found = standings(Tally({(winner, loser, Choice.A): 5}), rounds=200, seed=0)
        assert found.converged
        assert found.teams[winner].votes == 5
        assert found.teams[winner].win_rate < 0.97
        assert 100.0 * found.teams[winner].win_rate != 100.0
        assert found.prior_sd == bt.PRIOR_SD

    def test_the_user_figure_is_the_win_chance_at_the_lower_bound(self) -> None:
        teams = [uuid.uuid4() for _ in range(3)]
        tally = Tally(
            {
                (teams[0], teams[1], Choice.A): 30,
                (teams[1], teams[0], Choice.A): 12,
                (teams[1], teams[2], Choice.TIE): 20,
                (teams[2], teams[0], Choice.B): 25,
                (teams[2], teams[0], Choice.A): 9,
            }
        )
        found = standings(tally, rounds=300, seed=0)
        ratings = np.array([found.teams[t].rating for t in teams])
        lower = np.array([found.teams[t].lower for t in teams])
        expected = bt.expected_win_rate(ratings, own=lower)
        assert [found.teams[t].win_rate for t in teams] == pytest.approx(expected.tolist())
        assert np.all(expected < bt.expected_win_rate(ratings))
        assert found.votes == 96
        assert found.teams[teams[0]].votes == 30 + 12 + 25 + 9


class TestScale:
    def test_150_models_and_3000_votes_fit_within_60_mb(self) -> None:
        """The allocations of the fit (numpy reports them to tracemalloc): deterministic, unlike RSS.
        The former dense batched Newton held (rounds x models x models) arrays: about 800 MB."""
        a, b, outcome = field(150, 3000, seed=42)
        rows = bt.unique_rows(a, b, outcome, 150)
        tracemalloc.start()
        try:
            rated = bt.rate(rows, rounds=1000, seed=0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert rated.converged
        assert np.all((rated.lower <= rated.rating) & (rated.rating <= rated.upper))
        assert peak < 60 * 2**20, f"peak {peak / 2**20:.0f} MB"
