"""Bradley-Terry ratings from arena votes, as Chatbot Arena computes them, vectorised (pure).

The model: P(A beats B) = 1 / (1 + 10^((R_B - R_A) / 400)). A vote is a row (model A, model B,
outcome) with outcome 2 (A won), 1 (tie or both bad: half a win for each) or 0 (B won). As in
Chatbot Arena's ``compute_bt``/``compute_bootstrap_bt``:

* votes are counted as unique (A, B, outcome) rows, sorted, with their counts as weights;
* the ratings maximise the weighted log-likelihood, start at 0 and keep a zero sum (the gauge);
  reported points are ``400 · r + 1000`` where P = logistic(ln 10 · (r_A - r_B));
* a bootstrap round draws the counts of those unique rows multinomially (``default_rng(seed)``,
  weights = counts / number of votes) and refits; a 95 % interval is the 2.5 % and 97.5 %
  quantiles of the rounds;
* a model's rank is 1 + the number of models whose lower bound exceeds its upper bound.

What differs is how the fit is solved, not what is solved. Chatbot Arena runs one L-BFGS-B per
round on the unique rows. Here the unique rows are first folded into one (games, score) pair per
unordered pair of models (the log-likelihood depends on nothing else), and all rounds are solved
together by Newton's method with a step-halving safeguard: every round's gradient and Hessian (a
weighted graph Laplacian) are a handful of array operations, and the Newton systems a batched
``solve``. The rank-one term ``11ᵀ`` added to the Laplacian removes the gauge freedom and keeps
every step at zero sum.

The maximum-likelihood ratings exist when every model has both won (or tied) and lost (or tied)
against the others, through a connected graph of comparisons; otherwise ratings drift apart until
the iteration limit, as they do in Chatbot Arena. ``converged`` says which happened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SCALE = 400.0
INIT_RATING = 1000.0
ALPHA = math.log(10.0)
B_WINS, TIE, A_WINS = 0, 1, 2
CHORD_STEPS = 25
# Newton steps are capped (in units of log10-odds: 400 points); ratings beyond DIVERGED (12,000
# points from the mean, a win probability of 10^-30) mean the MLE does not exist for those votes.
MAX_STEP = 1.0
DIVERGED = 30.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class UniqueRows:
    """Votes as unique (A, B, outcome) rows in lexicographic order, with how often each occurred."""

    n_models: int
    a: IntArray
    b: IntArray
    outcome: IntArray
    counts: FloatArray

    @property
    def votes(self) -> int:
        return int(self.counts.sum())


def unique_rows(a: IntArray, b: IntArray, outcome: IntArray, n_models: int) -> UniqueRows:
    """Count the unique rows (the same rows and order as ``np.unique(..., axis=0)``)."""
    a, b, outcome = (np.asarray(x, dtype=np.int64) for x in (a, b, outcome))
    if not (len(a) == len(b) == len(outcome)):
        raise ValueError("a, b and outcome must have the same length")
    if len(a) and (a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= n_models):
        raise ValueError("model indices must be in [0, n_models)")
    if np.any(a == b):
        raise ValueError("a model cannot battle itself")
    if len(outcome) and (outcome.min() < B_WINS or outcome.max() > A_WINS):
        raise ValueError("outcomes are 0 (B won), 1 (tie) or 2 (A won)")
    keys = (a * n_models + b) * 3 + outcome
    counts = np.bincount(keys, minlength=n_models * n_models * 3)
    present = np.flatnonzero(counts)
    return UniqueRows(
        n_models=n_models,
        a=present // (3 * n_models),
        b=(present // 3) % n_models,
        outcome=present % 3,
        counts=counts[present].astype(np.float64),
    )


@dataclass(frozen=True)
class _Pairs:
    """Unordered pairs (lo < hi) present in the rows, and how row weights fold into them."""

    lo: IntArray
    hi: IntArray
    incidence: FloatArray  # (pairs, models): +1 at lo, -1 at hi
    order: IntArray  # rows sorted by pair
    starts: IntArray  # where each pair's rows start in that order
    score_lo: FloatArray  # the score of ``lo`` in each row (in that order): 1, 1/2 or 0

    def fold(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(rounds, rows) weights → games and ``lo``'s wins per pair, each (rounds, pairs)."""
        ordered = weights[:, self.order]
        games: FloatArray = np.add.reduceat(ordered, self.starts, axis=1)
        wins: FloatArray = np.add.reduceat(ordered * self.score_lo, self.starts, axis=1)
        return games, wins


def _pairs(rows: UniqueRows) -> _Pairs:
    lo = np.minimum(rows.a, rows.b)
    hi = np.maximum(rows.a, rows.b)
    key = lo * rows.n_models + hi
    order = np.argsort(key, kind="stable")
    pair_keys, starts = np.unique(key[order], return_index=True)
    score_a = rows.outcome / 2.0
    score_lo = np.where(rows.a == lo, score_a, 1.0 - score_a)[order]
    pair_lo, pair_hi = pair_keys // rows.n_models, pair_keys % rows.n_models
    incidence = np.zeros((len(pair_keys), rows.n_models))
    incidence[np.arange(len(pair_keys)), pair_lo] = 1.0
    incidence[np.arange(len(pair_keys)), pair_hi] = -1.0
    return _Pairs(pair_lo, pair_hi, incidence, order, starts, score_lo)


def _log_likelihood(r: FloatArray, pairs: _Pairs, games: FloatArray, wins: FloatArray) -> FloatArray:
    d = ALPHA * (r @ pairs.incidence.T)
    result: FloatArray = np.sum(wins * d - games * np.logaddexp(0.0, d), axis=1)
    return result


def _gradient(r: FloatArray, pairs: _Pairs, games: FloatArray, wins: FloatArray) -> FloatArray:
    d = ALPHA * (r @ pairs.incidence.T)
    p = 0.5 * (1.0 + np.tanh(0.5 * d))  # the logistic function, without overflow
    gradient: FloatArray = (ALPHA * (wins - games * p)) @ pairs.incidence
    return gradient


def _inverse_curvature(r: FloatArray, pairs: _Pairs, games: FloatArray) -> FloatArray:
    """(Laplacian of the Fisher weights + 11ᵀ)⁻¹ per round: the Newton metric with the gauge fixed."""
    rounds, k = r.shape
    d = ALPHA * (r @ pairs.incidence.T)
    p = 0.5 * (1.0 + np.tanh(0.5 * d))
    w = ALPHA * ALPHA * games * p * (1.0 - p)
    degree = w @ np.abs(pairs.incidence)
    laplacian = np.zeros((rounds, k, k))
    laplacian[:, pairs.lo, pairs.hi] = -w
    laplacian[:, pairs.hi, pairs.lo] = -w
    index = np.arange(k)
    laplacian[:, index, index] = degree
    # 11ᵀ fixes the gauge; the tiny ridge keeps a disconnected graph solvable (neither can move the
    # fixed point, where the gradient is zero).
    scale = np.maximum(degree.mean(axis=1), 1e-200)[:, None, None]
    inverse: FloatArray = np.linalg.inv(laplacian + scale / k + 1e-12 * scale * np.eye(k))
    return inverse


def _newton(
    pairs: _Pairs, games: FloatArray, wins: FloatArray, start: FloatArray, max_iter: int, tol: float
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Damped Newton: steps capped at ``MAX_STEP`` and halved wherever the likelihood would go
    down; globally convergent when the MLE exists. Where it does not, the ratings run away (or
    the curvature vanishes) and the round is reported unconverged, with finite ratings."""
    r = np.repeat(start[None, :], games.shape[0], axis=0)
    converged = np.zeros(games.shape[0], dtype=bool)
    stalled = np.zeros(games.shape[0], dtype=bool)
    current = _log_likelihood(r, pairs, games, wins)
    for _ in range(max_iter):
        with np.errstate(all="ignore"):
            raw = np.einsum(
                "rkl,rl->rk", _inverse_curvature(r, pairs, games), _gradient(r, pairs, games, wins)
            )
        stalled |= ~np.all(np.isfinite(raw), axis=1)
        step = np.clip(np.where(stalled[:, None] | converged[:, None], 0.0, raw), -MAX_STEP, MAX_STEP)
        candidate = r + step
        value = _log_likelihood(candidate, pairs, games, wins)
        for _ in range(40):
            worse = value < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            step[worse] *= 0.5
            candidate[worse] = r[worse] + step[worse]
            value[worse] = _log_likelihood(candidate[worse], pairs, games[worse], wins[worse])
        r, current = candidate, value
        small = np.max(np.abs(step), axis=1) < tol
        converged |= small & ~stalled & (np.max(np.abs(r), axis=1) < DIVERGED)
        if (converged | stalled).all():
            break
    return r, converged


def _chord(
    pairs: _Pairs, games: FloatArray, wins: FloatArray, start: FloatArray, metric: FloatArray, tol: float
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Newton steps with one shared Hessian (the start's): each step is a matrix product.

    Bootstrap rounds lie close to the point estimate, where this contracts by a factor of about
    the resampling noise per step. A round whose steps stop shrinking is left unconverged (and is
    solved again by full Newton); a converged round sits where the gradient is zero: the MLE.
    """
    r = np.repeat(start[None, :], games.shape[0], axis=0)
    converged = np.zeros(games.shape[0], dtype=bool)
    healthy = np.ones(games.shape[0], dtype=bool)
    previous = np.full(games.shape[0], np.inf)
    for _ in range(CHORD_STEPS):
        active = healthy & ~converged
        if not active.any():
            break
        with np.errstate(all="ignore"):
            step = _gradient(r[active], pairs, games[active], wins[active]) @ metric
        size = np.max(np.abs(step), axis=1)
        shrinking = np.isfinite(size) & (size < 0.5 * previous[active])
        r[active] += np.where(shrinking[:, None], step, 0.0)
        previous[active] = size
        healthy[active] = shrinking
        bounded = np.max(np.abs(r[active]), axis=1) < DIVERGED
        converged[active] = shrinking & (size < tol) & bounded
    return r, converged


def fit(
    rows: UniqueRows,
    weights: FloatArray | None = None,
    *,
    start: FloatArray | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
    batch: int = 1024,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Rating points for each weighting of the unique rows: shape (rounds, models), and convergence.

    ``weights`` is (rounds, unique rows); None fits the observed counts once. ``start`` (points,
    usually the point estimate) lets bootstrap rounds begin close to their optimum and share its
    Hessian; rounds that do not converge that way are solved by full Newton from there.
    """
    if len(rows.counts) == 0:
        raise ValueError("no votes to rate")
    weights = rows.counts[None, :] / rows.votes if weights is None else np.atleast_2d(weights)
    pairs = _pairs(rows)
    k = rows.n_models
    origin = np.zeros(k) if start is None else (np.asarray(start, dtype=np.float64) - INIT_RATING) / SCALE
    metric = None
    if start is not None:
        games, _ = pairs.fold(rows.counts[None, :] / rows.votes)
        with np.errstate(all="ignore"):
            metric = _inverse_curvature(origin[None, :], pairs, games)[0]
    ratings = np.zeros((weights.shape[0], k))
    converged = np.zeros(weights.shape[0], dtype=bool)
    for first in range(0, weights.shape[0], batch):
        part = slice(first, first + batch)
        games, wins = pairs.fold(weights[part])
        r = np.repeat(origin[None, :], games.shape[0], axis=0)
        ok = np.zeros(games.shape[0], dtype=bool)
        if metric is not None:
            r, ok = _chord(pairs, games, wins, origin, metric, tol)
        if not ok.all():
            r[~ok], ok[~ok] = _newton(pairs, games[~ok], wins[~ok], origin, max_iter, tol)
        ratings[part], converged[part] = r, ok
    # Models without any vote stay at 0 and would break the zero sum: re-centre over rated ones.
    rated = np.zeros(k, dtype=bool)
    rated[rows.a] = True
    rated[rows.b] = True
    ratings[:, rated] -= ratings[:, rated].mean(axis=1, keepdims=True)
    ratings[:, ~rated] = 0.0
    return SCALE * ratings + INIT_RATING, converged


def bootstrap_weights(rows: UniqueRows, rounds: int, seed: int) -> FloatArray:
    """Chatbot Arena's resampling: multinomial counts of the unique rows, divided by the votes."""
    rng = np.random.default_rng(seed=seed)
    draws = rng.multinomial(n=rows.votes, pvals=rows.counts / rows.counts.sum(), size=rounds)
    weights: FloatArray = draws.astype(np.float64) / rows.votes
    return weights


@dataclass(frozen=True)
class Ratings:
    rating: FloatArray
    lower: FloatArray
    upper: FloatArray
    rank: IntArray
    converged: bool
    rounds: int
    seed: int


def ranks(lower: FloatArray, upper: FloatArray) -> IntArray:
    """1 + the number of models whose lower bound exceeds this model's upper bound."""
    result: IntArray = 1 + np.sum(lower[None, :] > upper[:, None], axis=1).astype(np.int64)
    return result


def rate(rows: UniqueRows, *, rounds: int = 1000, seed: int = 0, level: float = 0.95) -> Ratings:
    """Point ratings (fit on all votes), bootstrap intervals and ranks."""
    point, point_ok = fit(rows)
    boot, boot_ok = fit(rows, bootstrap_weights(rows, rounds, seed), start=point[0])
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(boot, [tail, 1.0 - tail], axis=0)
    return Ratings(
        rating=point[0],
        lower=lower,
        upper=upper,
        rank=ranks(lower, upper),
        converged=bool(point_ok.all() and boot_ok.all()),
        rounds=rounds,
        seed=seed,
    )


def expected_win_rate(ratings: FloatArray) -> FloatArray:
    """Each model's mean predicted chance of beating each other model (0 to 1)."""
    k = len(ratings)
    if k < 2:
        return np.full(k, 0.5)
    diff = (ratings[:, None] - ratings[None, :]) / SCALE
    p = 1.0 / (1.0 + np.power(10.0, -diff))
    np.fill_diagonal(p, 0.0)
    result: FloatArray = p.sum(axis=1) / (k - 1)
    return result
