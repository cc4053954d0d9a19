"""Bradley-Terry ratings: the MLE itself, its invariances, recovery of known strengths, monotonicity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped]

from fmc_scoring.arena import bradley_terry as bt

IntArray = NDArray[np.int64]


def simulate(
    strengths: NDArray[np.float64], votes: int, seed: int, tie_share: float = 0.0
) -> tuple[IntArray, IntArray, IntArray]:
    rng = np.random.default_rng(seed)
    k = len(strengths)
    a = rng.integers(0, k, votes)
    b = (a + rng.integers(1, k, votes)) % k
    p_a = 1.0 / (1.0 + np.power(10.0, (strengths[b] - strengths[a]) / 400.0))
    outcome = np.where(rng.random(votes) < p_a, bt.A_WINS, bt.B_WINS)
    outcome = np.where(rng.random(votes) < tie_share, bt.TIE, outcome)
    return a, b, outcome.astype(np.int64)


def reference_fit(rows: bt.UniqueRows) -> NDArray[np.float64]:
    """A direct, tightly converged maximisation of the same objective (the likelihood minus the
    documented prior: r²/2 per model in units of 400 points, sd 400 points; no shortcuts)."""

    def loss(r: NDArray[np.float64]) -> float:
        d = math.log(10.0) * (r[rows.a] - r[rows.b])
        o = rows.outcome / 2.0
        prior = 0.5 * float(np.sum(r * r)) * (bt.SCALE / bt.PRIOR_SD) ** 2
        return float(np.sum(rows.counts * (np.logaddexp(0.0, d) - o * d))) + prior

    result = minimize(loss, np.zeros(rows.n_models), method="BFGS", options={"gtol": 1e-10})
    return np.asarray(bt.SCALE * result.x + bt.INIT_RATING, dtype=np.float64)


def votes_from_counts(counts: list[list[int]], ties: list[int]) -> tuple[IntArray, IntArray, IntArray]:
    """counts[i][j]: wins of i over j; ties: one entry per unordered pair, in (i<j) order."""
    a: list[int] = []
    b: list[int] = []
    outcome: list[int] = []
    k = len(counts)
    pair = 0
    for i in range(k):
        for j in range(k):
            if i != j:
                a += [i] * counts[i][j]
                b += [j] * counts[i][j]
                outcome += [bt.A_WINS] * counts[i][j]
            if i < j:
                a += [i] * ties[pair]
                b += [j] * ties[pair]
                outcome += [bt.TIE] * ties[pair]
                pair += 1
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.array(outcome, dtype=np.int64)


@st.composite
def tournaments(draw: st.DrawFn) -> tuple[int, list[list[int]], list[int]]:
    """Win counts with at least one tie per pair, so that the maximum-likelihood ratings exist."""
    k = draw(st.integers(min_value=2, max_value=5))
    counts = [[draw(st.integers(0, 12)) if i != j else 0 for j in range(k)] for i in range(k)]
    ties = [draw(st.integers(1, 4)) for _ in range(k * (k - 1) // 2)]
    return k, counts, ties


class TestUniqueRows:
    def test_rows_and_counts_are_those_of_numpy_unique_over_the_rows(self) -> None:
        a, b, outcome = simulate(np.array([0.0, 50.0, 100.0, -80.0]), 500, seed=3, tie_share=0.2)
        rows = bt.unique_rows(a, b, outcome, 4)
        expected, counts = np.unique(np.column_stack([a, b, outcome]), axis=0, return_counts=True)
        assert np.array_equal(np.column_stack([rows.a, rows.b, rows.outcome]), expected)
        assert np.array_equal(rows.counts, counts)

    def test_a_model_battling_itself_is_refused(self) -> None:
        with pytest.raises(ValueError, match="itself"):
            bt.unique_rows(np.array([1]), np.array([1]), np.array([2]), 3)


class TestFit:
    def test_the_fit_is_the_maximum_of_the_posterior_found_by_a_generic_optimiser(self) -> None:
        a, b, outcome = simulate(np.array([0.0, 120.0, -60.0, 200.0, 30.0]), 3000, seed=5, tie_share=0.1)
        rows = bt.unique_rows(a, b, outcome, 5)
        ratings, converged = bt.fit(rows)
        assert converged.all()
        assert np.allclose(ratings[0], reference_fit(rows), atol=1e-4)
        assert ratings[0].mean() == pytest.approx(bt.INIT_RATING)

    def test_a_start_far_from_the_optimum_still_reaches_it_through_full_newton(self) -> None:
        a, b, outcome = simulate(np.array([0.0, 300.0, -250.0]), 2000, seed=8)
        rows = bt.unique_rows(a, b, outcome, 3)
        point, _ = bt.fit(rows)
        far, converged = bt.fit(rows, start=np.array([2000.0, -900.0, 1900.0]))
        assert converged.all()
        assert np.allclose(far, point, atol=1e-6)

    def test_a_model_that_never_lost_still_gets_a_finite_rating_the_optimiser_agrees_with(self) -> None:
        a = np.array([0, 0, 1, 2, 1], dtype=np.int64)
        b = np.array([1, 2, 2, 1, 0], dtype=np.int64)
        outcome = np.array([bt.A_WINS, bt.A_WINS, bt.A_WINS, bt.A_WINS, bt.B_WINS], dtype=np.int64)
        rows = bt.unique_rows(a, b, outcome, 3)
        ratings, converged = bt.fit(rows)
        assert converged.all()
        assert np.allclose(ratings[0], reference_fit(rows), atol=1e-4)

    def test_a_fit_stopped_before_it_converged_says_so(self) -> None:
        a, b, outcome = simulate(np.array([0.0, 300.0, -250.0, 120.0]), 2000, seed=4)
        rows = bt.unique_rows(a, b, outcome, 4)
        _, stopped = bt.fit(rows, max_iter=1)
        _, finished = bt.fit(rows)
        assert not stopped.any()
        assert finished.all()

    def test_a_model_without_votes_is_left_at_the_initial_rating(self) -> None:
        a, b, outcome = simulate(np.array([0.0, 100.0]), 200, seed=1, tie_share=0.3)
        ratings, _ = bt.fit(bt.unique_rows(a, b, outcome, 3))
        assert ratings[0][2] == bt.INIT_RATING
        assert ratings[0][:2].mean() == pytest.approx(bt.INIT_RATING)


class TestProperties:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data(), seed=st.integers(0, 2**31 - 1))
    def test_ratings_and_intervals_do_not_depend_on_the_order_of_the_votes(
        self, data: st.DataObject, seed: int
    ) -> None:
        k, counts, ties = data.draw(tournaments())
        a, b, outcome = votes_from_counts(counts, ties)
        order = np.random.default_rng(seed).permutation(len(a))
        first = bt.rate(bt.unique_rows(a, b, outcome, k), rounds=50, seed=7)
        second = bt.rate(bt.unique_rows(a[order], b[order], outcome[order], k), rounds=50, seed=7)
        for name in ("rating", "lower", "upper", "rank"):
            assert np.array_equal(getattr(first, name), getattr(second, name)), name

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_one_more_win_never_lowers_a_teams_rating(self, data: st.DataObject) -> None:
        k, counts, ties = data.draw(tournaments())
        winner = data.draw(st.integers(0, k - 1))
        loser = data.draw(st.integers(0, k - 1).filter(lambda j: j != winner))
        before, ok_before = bt.fit(bt.unique_rows(*votes_from_counts(counts, ties), k))
        counts[winner][loser] += 1
        after, ok_after = bt.fit(bt.unique_rows(*votes_from_counts(counts, ties), k))
        assert ok_before.all()
        assert ok_after.all()
        assert after[0][winner] >= before[0][winner] - 1e-9
        assert after[0][loser] <= before[0][loser] + 1e-9

    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(
        strengths=st.lists(st.floats(-300, 300), min_size=3, max_size=6),
        seed=st.integers(0, 2**31 - 1),
    )
    def test_known_strengths_are_recovered_within_the_intervals(
        self, strengths: list[float], seed: int
    ) -> None:
        """Simulated from known ratings, each true rating lies within its 99.9 % bootstrap interval."""
        true = np.array(strengths)
        a, b, outcome = simulate(true, 6000, seed=seed)
        rated = bt.rate(bt.unique_rows(a, b, outcome, len(true)), rounds=2000, seed=seed, level=0.999)
        centred = true - true.mean() + bt.INIT_RATING
        assert rated.converged
        assert np.all(rated.lower <= centred), (rated.lower, centred)
        assert np.all(centred <= rated.upper), (centred, rated.upper)


class TestIntervals:
    def test_95_percent_intervals_cover_the_truth_about_95_percent_of_the_time(self) -> None:
        covered = total = 0
        rng = np.random.default_rng(2026)
        for trial in range(40):
            true = rng.normal(0.0, 150.0, 5)
            a, b, outcome = simulate(true, 3000, seed=trial)
            rated = bt.rate(bt.unique_rows(a, b, outcome, 5), rounds=400, seed=trial)
            centred = true - true.mean() + bt.INIT_RATING
            covered += int(np.sum((rated.lower <= centred) & (centred <= rated.upper)))
            total += 5
        assert 0.88 <= covered / total <= 0.995

    def test_rank_is_one_plus_the_models_whose_lower_bound_exceeds_the_upper_bound(self) -> None:
        lower = np.array([1100.0, 1050.0, 990.0, 900.0])
        upper = np.array([1150.0, 1120.0, 1060.0, 1000.0])
        assert bt.ranks(lower, upper).tolist() == [1, 1, 2, 3]

    def test_expected_win_rate_is_a_half_among_equals_and_ordered_by_rating(self) -> None:
        assert np.allclose(bt.expected_win_rate(np.array([1000.0, 1000.0, 1000.0])), 0.5)
        rates = bt.expected_win_rate(np.array([1200.0, 1000.0, 800.0]))
        assert rates[0] > rates[1] > rates[2]
        assert rates[0] == pytest.approx((1 / (1 + 10**-0.5) + 1 / (1 + 10**-1)) / 2)
