"""Bradley-Terry ratings from arena votes, with a weak prior, bootstrap intervals and ranks (pure).

The model: P(A beats B) = 1 / (1 + 10^((R_B - R_A) / 400)). A vote is a row (model A, model B,
outcome) with outcome 2 (A won), 1 (tie or both bad: half a win for each) or 0 (B won). As in
Chatbot Arena's ``compute_bt``/``compute_bootstrap_bt``:

* votes are counted as unique (A, B, outcome) rows, sorted, with their counts as weights;
* reported points are ``400 · r + 1000`` where P = logistic(ln 10 · (r_A - r_B));
* a bootstrap round draws the counts of those unique rows multinomially (``default_rng(seed)``,
  probabilities = counts / number of votes) and refits;
* a model's rank is 1 + the number of models whose lower bound exceeds its upper bound.

What differs from Chatbot Arena, and why (docs/decisions/2026-12-05-arena-ratings-prior.md):

* **A weak prior.** The ratings maximise the log-likelihood of the votes minus ``r_i² / (2 sigma²)``
  for every model, with sigma = ``PRIOR_SD`` points (400: a Gaussian prior of standard deviation 400
  points around 1,000, the same for every model). The maximum-likelihood ratings do not exist for
  one-sided records (30-0, a model that never lost, a single vote, groups of models that never
  met); with the prior the objective is strictly concave and has exactly one maximum for any
  record: 30-0 gives a gap of about 750 points, a single won vote about 300. Because every vote's
  gradient sums to zero, the maximum keeps a zero sum: the mean rating is 1,000, in each group of
  models that met (the prior is what places groups that never met against each other: both at
  1,000). With thousands of votes the prior moves ratings by hundredths of a point.
* **Intervals contain their point.** The 95 % interval is the 2.5 % and 97.5 % quantiles of the
  bootstrap rounds, widened where needed to include the point estimate (a percentile interval
  need not contain it, e.g. for a model that won every battle).
* **Convergence is a fact.** A fit is ``converged`` when its last Newton step was taken in full
  and moved no rating by more than ``tol``; nothing else is reported as converged.
* **Solved by pairs, not rows.** The unique rows are folded into one (games, score) pair per
  unordered pair of models (the log-likelihood depends on nothing else). The point estimate is
  found by Newton's method with a dense Hessian (models x models). The bootstrap rounds are solved
  together, a batch at a time, by Newton's method whose systems are solved by conjugate gradients
  preconditioned with the point estimate's inverse Hessian: each iteration costs a few array
  operations on (rounds x pairs), so time and memory grow with the number of distinct pairs, not
  with the votes or with models², and nothing grows with how far a round is from converging.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

SCALE = 400.0
INIT_RATING = 1000.0
ALPHA = math.log(10.0)
B_WINS, TIE, A_WINS = 0, 1, 2
PRIOR_SD = 400.0  # points: the prior's standard deviation, the same for every model
# Bootstrap rounds are solved in batches of at most this many (round, pair) cells: a few such
# float arrays at once bound the memory whatever the number of rounds.
BATCH_CELLS = 1 << 19
CG_ITERATIONS = 200
LINE_SEARCH = 40

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


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


def _check(a: IntArray, b: IntArray, outcome: IntArray, n_models: int) -> None:
    if not (len(a) == len(b) == len(outcome)):
        raise ValueError("a, b and outcome must have the same length")
    if len(a) and (a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= n_models):
        raise ValueError("model indices must be in [0, n_models)")
    if np.any(a == b):
        raise ValueError("a model cannot battle itself")
    if len(outcome) and (outcome.min() < B_WINS or outcome.max() > A_WINS):
        raise ValueError("outcomes are 0 (B won), 1 (tie) or 2 (A won)")


def unique_rows(
    a: IntArray, b: IntArray, outcome: IntArray, n_models: int, counts: IntArray | None = None
) -> UniqueRows:
    """Count the unique rows (the same rows and order as ``np.unique(..., axis=0)``).

    ``counts`` (optional) says how many votes each given row stands for: votes already tallied
    (e.g. by the database) are passed as their rows and counts."""
    a, b, outcome = (np.asarray(x, dtype=np.int64) for x in (a, b, outcome))
    _check(a, b, outcome, n_models)
    weights = np.ones(len(a), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    if len(weights) != len(a) or (len(weights) and weights.min() < 0):
        raise ValueError("counts must be one non-negative count per row")
    keys = (a * n_models + b) * 3 + outcome
    space = n_models * n_models * 3
    if space <= max(1 << 20, 4 * len(keys)):
        # A small key space: one pass of bincount (the dense case, e.g. 1M votes among 20 models).
        tally = np.bincount(keys, weights=weights, minlength=space)
        present = np.flatnonzero(tally)
        total = tally[present]
    else:
        # A sparse one: sort the keys (memory grows with the rows, not with models²).
        present, inverse = np.unique(keys, return_inverse=True)
        total = np.bincount(inverse, weights=weights, minlength=len(present))
        present, total = present[total > 0], total[total > 0]
    return UniqueRows(
        n_models=n_models,
        a=present // (3 * n_models),
        b=(present // 3) % n_models,
        outcome=present % 3,
        counts=np.asarray(total, dtype=np.float64),
    )


@dataclass(frozen=True)
class _Pairs:
    """Unordered pairs (lo < hi) present in the rows, as sparse matrices.

    Arrays of a batch of rounds are laid out (pairs, rounds) and (models, rounds): every step of
    the solver is then a sparse-times-dense product, linear in pairs x rounds."""

    k: int
    lo: IntArray
    hi: IntArray
    incidence: Any  # (pairs, models) CSR: +1 at lo, -1 at hi
    incidence_t: Any  # its transpose, CSR
    order: IntArray  # rows sorted by pair
    starts: IntArray  # where each pair's rows start in that order
    score_lo: FloatArray  # the score of ``lo`` in each row (in that order): 1, 1/2 or 0

    def fold(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(rounds, rows) weights → games and ``lo``'s wins per pair, each (pairs, rounds).

        Summed along the rows as drawn (contiguous), then transposed: the (rounds, pairs) result
        is the smaller array to move."""
        ordered = weights[:, self.order]
        games = np.add.reduceat(ordered, self.starts, axis=1)
        wins = np.add.reduceat(ordered * self.score_lo, self.starts, axis=1)
        return np.ascontiguousarray(games.T), np.ascontiguousarray(wins.T)

    def differences(self, r: FloatArray) -> FloatArray:
        """(models, rounds) ratings → r_lo - r_hi, (pairs, rounds)."""
        return np.asarray(self.incidence @ r)

    def spread(self, x: FloatArray) -> FloatArray:
        """(pairs, rounds) values → (models, rounds): + at ``lo``, - at ``hi``."""
        return np.asarray(self.incidence_t @ x)


def _pairs(rows: UniqueRows) -> _Pairs:
    lo = np.minimum(rows.a, rows.b)
    hi = np.maximum(rows.a, rows.b)
    key = lo * rows.n_models + hi
    order = np.argsort(key, kind="stable")
    pair_keys, starts = np.unique(key[order], return_index=True)
    n, k = len(pair_keys), rows.n_models
    pair_lo, pair_hi = pair_keys // k, pair_keys % k
    score_a = rows.outcome / 2.0
    score_lo = np.where(rows.a == lo, score_a, 1.0 - score_a)[order]
    incidence = sparse.csr_matrix(
        (np.repeat([1.0, -1.0], n), (np.tile(np.arange(n), 2), np.concatenate([pair_lo, pair_hi]))),
        shape=(n, k),
    )
    return _Pairs(
        k=k,
        lo=pair_lo,
        hi=pair_hi,
        incidence=incidence,
        incidence_t=incidence.T.tocsr(),
        order=order,
        starts=starts,
        score_lo=score_lo,
    )


def _dot(x: FloatArray, y: FloatArray) -> FloatArray:
    """Column-wise dot products (one per round)."""
    result: FloatArray = np.einsum("ij,ij->j", x, y)
    return result


@dataclass(frozen=True)
class _Problem:
    """One batch of rounds: games and ``lo``'s wins per pair (pairs, rounds), the prior's precision."""

    pairs: _Pairs
    games: FloatArray
    wins: FloatArray
    precision: float

    def evaluate(self, r: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """At ratings ``r`` (models, rounds): each round's log-posterior (up to a constant: the
        likelihood minus the prior), its gradient (models, rounds), and the Hessian's edge weights
        (pairs, rounds). One pass: the line search's value is the next step's gradient too."""
        d = ALPHA * self.pairs.differences(r)
        soft = np.logaddexp(0.0, d)
        p = np.exp(d - soft)  # the logistic function, without overflow
        value = np.sum(self.wins * d - self.games * soft, axis=0) - 0.5 * self.precision * np.sum(
            r * r, axis=0
        )
        gradient = self.pairs.spread(ALPHA * (self.wins - self.games * p)) - self.precision * r
        return value, gradient, ALPHA * ALPHA * self.games * p * (1.0 - p)

    def curvature(self, weights: FloatArray, v: FloatArray) -> FloatArray:
        """(Laplacian of the edge weights + precision · I) · v, per round (the negative Hessian)."""
        result: FloatArray = self.pairs.spread(weights * self.pairs.differences(v)) + self.precision * v
        return result

    def subset(self, rounds: BoolArray) -> _Problem:
        return _Problem(self.pairs, self.games[:, rounds], self.wins[:, rounds], self.precision)


def _dense_curvature(pairs: _Pairs, weights: FloatArray, precision: float) -> FloatArray:
    """The negative Hessian of one round as a (models, models) matrix (positive definite)."""
    k = pairs.k
    matrix = np.zeros((k, k))
    matrix[pairs.lo, pairs.hi] = -weights
    matrix[pairs.hi, pairs.lo] = -weights
    degree = np.bincount(pairs.lo, weights, minlength=k) + np.bincount(pairs.hi, weights, minlength=k)
    matrix[np.arange(k), np.arange(k)] = degree + precision
    return matrix


def _conjugate_gradients(
    problem: _Problem, weights: FloatArray, b: FloatArray, metric: FloatArray, rtol: float
) -> FloatArray:
    """Solve (negative Hessian) x = b for every round (column) at once, preconditioned by ``metric``."""
    x = np.zeros_like(b)
    residual = b.copy()
    z = metric @ residual
    direction = z.copy()
    rz = _dot(residual, z)
    target = rtol * np.linalg.norm(b, axis=0)
    active = np.linalg.norm(residual, axis=0) > target
    for _ in range(CG_ITERATIONS):
        if not active.any():
            break
        product = problem.curvature(weights, direction)
        curvature = _dot(direction, product)
        step = np.where(active, rz / np.where(curvature > 0, curvature, 1.0), 0.0)
        x += step * direction
        residual -= step * product
        active &= np.linalg.norm(residual, axis=0) > target
        z = metric @ residual
        rz_next = _dot(residual, z)
        beta = np.where(active, rz_next / np.where(rz > 0, rz, 1.0), 0.0)
        direction = z + beta * direction
        rz = rz_next
    return x


def _line_search(
    problem: _Problem, r: FloatArray, current: FloatArray, step: FloatArray
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray], BoolArray]:
    """Halve each round's step until the objective does not go down; returns the new ratings, the
    evaluation there, and which rounds took their step in full."""
    scale = np.ones(r.shape[1])
    candidate = r + step
    value, gradient, weights = problem.evaluate(candidate)
    for _ in range(LINE_SEARCH):
        worse = value < current - 1e-12 * np.abs(current)
        if not worse.any():
            break
        scale[worse] *= 0.5
        candidate[:, worse] = r[:, worse] + scale[worse] * step[:, worse]
        value[worse], gradient[:, worse], weights[:, worse] = problem.subset(worse).evaluate(
            candidate[:, worse]
        )
    return candidate, (value, gradient, weights), scale == 1.0


def _newton_step(
    problem: _Problem, weights: FloatArray, gradient: FloatArray, metric: FloatArray | None
) -> FloatArray:
    """The Newton step of every round: a dense solve without ``metric`` (the point estimate),
    conjugate gradients preconditioned by it otherwise."""
    if metric is not None:
        return _conjugate_gradients(problem, weights, gradient, metric, rtol=1e-8)
    columns = [
        np.linalg.solve(_dense_curvature(problem.pairs, weights[:, j], problem.precision), gradient[:, j])
        for j in range(gradient.shape[1])
    ]
    return np.column_stack(columns)


def _newton(
    problem: _Problem, start: FloatArray, metric: FloatArray | None, max_iter: int, tol: float
) -> tuple[FloatArray, BoolArray]:
    """Damped Newton for every round of the batch. Strictly concave (the prior), so the maximum
    exists and the damped iteration reaches it; ``converged`` says it did: the last step was taken
    in full and moved no rating by ``tol`` or more."""
    rounds = problem.games.shape[1]
    r = np.repeat(start[:, None], rounds, axis=1)
    value, gradient, weights = problem.evaluate(r)
    converged = np.zeros(rounds, dtype=bool)
    for _ in range(max_iter):
        todo = ~converged
        sub = problem if todo.all() else problem.subset(todo)
        step = _newton_step(sub, weights[:, todo], gradient[:, todo], metric)
        moved, (v, g, w), full = _line_search(sub, r[:, todo], value[todo], step)
        r[:, todo], value[todo], gradient[:, todo], weights[:, todo] = moved, v, g, w
        converged[todo] = full & (np.max(np.abs(step), axis=0) < tol)
        if converged.all():
            break
    return r.T, converged


def _precision(prior_sd: float) -> float:
    if not (prior_sd > 0 and math.isfinite(prior_sd)):
        raise ValueError("the prior's standard deviation must be positive and finite")
    return (SCALE / prior_sd) ** 2


def fit(
    rows: UniqueRows,
    weights: FloatArray | None = None,
    *,
    start: FloatArray | None = None,
    prior_sd: float = PRIOR_SD,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> tuple[FloatArray, BoolArray]:
    """Rating points for each weighting of the unique rows: shape (rounds, models), and convergence.

    ``weights`` is (rounds, unique rows) counts (a bootstrap draw: ``bootstrap_weights``); None
    fits the observed counts once, by dense Newton. With ``start`` (points: the point estimate),
    rounds start there and their Newton systems are solved by conjugate gradients preconditioned
    with the start's inverse Hessian under the observed counts.
    """
    if len(rows.counts) == 0:
        raise ValueError("no votes to rate")
    pairs = _pairs(rows)
    precision = _precision(prior_sd)
    origin = np.zeros(rows.n_models) if start is None else (np.asarray(start) - INIT_RATING) / SCALE
    metric = None
    if start is not None:
        observed = _Problem(pairs, *pairs.fold(rows.counts[None, :]), precision)
        _, _, point_weights = observed.evaluate(origin[:, None])
        metric = np.linalg.inv(_dense_curvature(pairs, point_weights[:, 0], precision))
    table = rows.counts[None, :] if weights is None else np.atleast_2d(np.asarray(weights, dtype=np.float64))
    ratings = np.zeros((table.shape[0], rows.n_models))
    converged = np.zeros(table.shape[0], dtype=bool)
    batch = max(1, BATCH_CELLS // max(1, len(pairs.lo)))
    for first in range(0, table.shape[0], batch):
        part = slice(first, first + batch)
        problem = _Problem(pairs, *pairs.fold(table[part]), precision)
        ratings[part], converged[part] = _newton(problem, origin, metric, max_iter, tol)
    return SCALE * ratings + INIT_RATING, converged


def _draws(rows: UniqueRows, rounds: int, seed: int) -> Iterator[FloatArray]:
    """Chatbot Arena's resampling, in batches: multinomial counts of the unique rows (the same
    stream as one draw of ``rounds``), so that no (rounds x rows) table is ever held whole."""
    rng = np.random.default_rng(seed=seed)
    pvals = rows.counts / rows.counts.sum()
    batch = max(1, BATCH_CELLS // max(1, len(rows.counts)))
    for first in range(0, rounds, batch):
        size = min(batch, rounds - first)
        yield rng.multinomial(n=rows.votes, pvals=pvals, size=size).astype(np.float64)


def bootstrap_weights(rows: UniqueRows, rounds: int, seed: int) -> FloatArray:
    """Every bootstrap round's counts of the unique rows, (rounds, rows) (``rate`` draws them a
    batch at a time)."""
    return np.concatenate(list(_draws(rows, rounds, seed)), axis=0)


@dataclass(frozen=True)
class Ratings:
    rating: FloatArray
    lower: FloatArray
    upper: FloatArray
    rank: IntArray
    converged: bool
    rounds: int
    seed: int
    prior_sd: float
    groups: int  # groups of models the votes connect (more than one: placed by the prior alone)


def ranks(lower: FloatArray, upper: FloatArray) -> IntArray:
    """1 + the number of models whose lower bound exceeds this model's upper bound."""
    result: IntArray = 1 + np.sum(lower[None, :] > upper[:, None], axis=1).astype(np.int64)
    return result


def groups(rows: UniqueRows) -> int:
    """How many groups of models the votes connect (models without votes are not counted)."""
    parent = list(range(rows.n_models))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = _pairs(rows)
    for lo, hi in zip(pairs.lo.tolist(), pairs.hi.tolist(), strict=True):
        parent[root(lo)] = root(hi)
    rated = np.union1d(rows.a, rows.b).tolist()
    return len({root(i) for i in rated})


def rate(
    rows: UniqueRows, *, rounds: int = 1000, seed: int = 0, level: float = 0.95, prior_sd: float = PRIOR_SD
) -> Ratings:
    """Point ratings (fit on all votes), bootstrap intervals (widened to hold the point) and ranks."""
    point, point_ok = fit(rows, prior_sd=prior_sd)
    rounds_ok = True
    boot = np.empty((rounds, rows.n_models))
    done = 0
    for draw in _draws(rows, rounds, seed):
        fitted, ok = fit(rows, draw, start=point[0], prior_sd=prior_sd)
        boot[done : done + len(draw)] = fitted
        rounds_ok = rounds_ok and bool(ok.all())
        done += len(draw)
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(boot, [tail, 1.0 - tail], axis=0)
    lower, upper = np.minimum(lower, point[0]), np.maximum(upper, point[0])
    return Ratings(
        rating=point[0],
        lower=lower,
        upper=upper,
        rank=ranks(lower, upper),
        converged=bool(point_ok.all()) and rounds_ok,
        rounds=rounds,
        seed=seed,
        prior_sd=prior_sd,
        groups=groups(rows),
    )


def expected_win_rate(ratings: FloatArray, own: FloatArray | None = None) -> FloatArray:
    """Each model's mean predicted chance of beating each other model (0 to 1), the model rated
    at ``own`` (e.g. its lower bound; default: its rating) and the others at their ratings."""
    k = len(ratings)
    if k < 2:
        return np.full(k, 0.5)
    mine = ratings if own is None else own
    diff = (mine[:, None] - ratings[None, :]) / SCALE
    p = 1.0 / (1.0 + np.power(10.0, -diff))
    np.fill_diagonal(p, 0.0)
    result: FloatArray = p.sum(axis=1) / (k - 1)
    return result
