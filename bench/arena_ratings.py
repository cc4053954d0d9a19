"""Arena ratings: the project's Bradley-Terry fit and bootstrap against Chatbot Arena's way, same run,
and the sparse arenas (many models, few votes each) within a time and memory budget.

**Dense case.** Simulates ``--votes`` votes among ``--models`` models (true strengths drawn once,
outcomes from the Bradley-Terry model on the 400-point scale, a share of ties and both-bad votes),
then computes point ratings, ``--rounds`` bootstrap rounds, 95 % intervals and ranks twice:

* **baseline**, written as Chatbot Arena does it (``compute_bt`` / ``compute_bootstrap_bt`` in
  FastChat's ``elo_analysis.py``): unique (A, B, outcome) rows by ``np.unique(axis=0)``, one scipy
  L-BFGS-B fit per bootstrap round on the unique rows (``bt_loss_and_grad``, gtol 1e-6, at most
  100 iterations), sequentially, with the same prior as ours added to its loss (the same objective);
* **ours**: ``fmc_scoring.arena.bradley_terry.rate`` (counts by ``bincount``, rows folded into
  pairs, the rounds solved a batch at a time by Newton with preconditioned conjugate gradients).

Both draw the same multinomial bootstrap weights (``default_rng(seed)``), so their ratings and
bounds must agree within ``--agree`` points (ours widens an interval to hold its point; the
baseline's interval is widened the same way). Prints the best of ``--repeat`` times of each and
their ratio, which must be at least ``--min-ratio``.

**Sparse cases** (``--sparse``, default 150x3000 and 300x6000): ours alone, each in a fresh
subprocess so that its peak resident memory (``ru_maxrss``) is its own, not the dense case's;
the largest must finish within ``--sparse-seconds`` and ``--sparse-mb``. The last line is JSON.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/arena_ratings.py [--votes 1000000] [--models 20]
        [--rounds 1000] [--repeat 3] [--sparse 150x3000,300x6000]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.special import expit  # type: ignore[import-untyped]

from fmc_scoring.arena import bradley_terry as bt

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def simulate(votes: int, models: int, seed: int) -> tuple[IntArray, IntArray, IntArray]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0.0, 120.0, models)
    a = rng.integers(0, models, votes)
    b = (a + rng.integers(1, models, votes)) % models
    p_a = 1.0 / (1.0 + np.power(10.0, (strength[b] - strength[a]) / 400.0))
    tie = rng.random(votes) < 0.12
    outcome = np.where(tie, bt.TIE, np.where(rng.random(votes) < p_a, bt.A_WINS, bt.B_WINS))
    return a.astype(np.int64), b.astype(np.int64), outcome.astype(np.int64)


# --- the baseline, after FastChat's elo_analysis.py ---------------------------------------------


def bt_loss_and_grad(
    ratings: FloatArray,
    matchups: IntArray,
    outcomes: FloatArray,
    weights: FloatArray,
    alpha: float,
    precision: float,
) -> tuple[float, FloatArray]:
    matchup_ratings = ratings[matchups]
    logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    probs = expit(logits)
    loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
    matchups_grads = -alpha * (outcomes - probs) * weights
    model_grad = np.zeros_like(ratings)
    np.add.at(model_grad, matchups[:, [0, 1]], matchups_grads[:, None] * np.array([1.0, -1.0]))
    # The prior (not in FastChat): the same Gaussian as ours, in the weights' units.
    loss += 0.5 * precision * float(ratings @ ratings)
    return float(loss), model_grad + precision * ratings


def fit_bt(
    matchups: IntArray,
    outcomes: FloatArray,
    weights: FloatArray,
    n_models: int,
    alpha: float,
    precision: float,
) -> FloatArray:
    result = minimize(
        fun=bt_loss_and_grad,
        x0=np.zeros(n_models),
        args=(matchups, outcomes, weights, alpha, precision),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 100, "gtol": 1e-6},
    )
    ratings: FloatArray = result["x"]
    return ratings


@dataclass(frozen=True)
class Result:
    rating: FloatArray
    lower: FloatArray
    upper: FloatArray
    rank: IntArray


def baseline(a: IntArray, b: IntArray, outcome: IntArray, models: int, rounds: int, seed: int) -> Result:
    schedule = np.column_stack([a, b, outcome])
    unique, counts = np.unique(schedule, return_counts=True, axis=0)
    matchups = unique[:, [0, 1]]
    outcomes = unique[:, 2].astype(np.float64) / 2.0
    weights = counts.astype(np.float64)
    alpha = math.log(10.0)
    precision = (bt.SCALE / bt.PRIOR_SD) ** 2
    point = fit_bt(matchups, outcomes, weights, models, alpha, precision) * bt.SCALE + bt.INIT_RATING
    rng = np.random.default_rng(seed=seed)
    draws = rng.multinomial(n=len(a), pvals=weights / weights.sum(), size=rounds)
    boot_weights = draws.astype(np.float64) / len(a)
    boot = np.array([fit_bt(matchups, outcomes, w, models, alpha, precision / len(a)) for w in boot_weights])
    boot = boot * bt.SCALE + bt.INIT_RATING
    lower, upper = np.quantile(boot, [0.025, 0.975], axis=0)
    lower, upper = np.minimum(lower, point), np.maximum(upper, point)
    return Result(point, lower, upper, bt.ranks(lower, upper))


def ours(a: IntArray, b: IntArray, outcome: IntArray, models: int, rounds: int, seed: int) -> Result:
    rated = bt.rate(bt.unique_rows(a, b, outcome, models), rounds=rounds, seed=seed)
    return Result(rated.rating, rated.lower, rated.upper, rated.rank)


def timed(repeat: int, function: object, *args: object) -> tuple[Result, float]:
    """The result and the best of ``repeat`` timings (the machine is shared: the minimum is the
    least disturbed run)."""
    assert callable(function)
    best = math.inf
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
    assert isinstance(result, Result)
    return result, best


def sparse_child(models: int, votes: int, rounds: int, seed: int) -> None:
    """One sparse case, in this (fresh) process: prints its seconds and peak RSS as JSON."""
    a, b, outcome = simulate(votes, models, seed=42)
    started = time.perf_counter()
    rated = bt.rate(bt.unique_rows(a, b, outcome, models), rounds=rounds, seed=seed)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    inside = bool(np.all((rated.lower <= rated.rating) & (rated.rating <= rated.upper)))
    figures = {"seconds": seconds, "peak_rss_mb": peak_mb, "converged": rated.converged, "inside": inside}
    print(json.dumps(figures))


def sparse_case(models: int, votes: int, rounds: int, seed: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", f"{models}x{votes}", "--rounds", str(rounds)]
    command += ["--seed", str(seed)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"models": models, "votes": votes, "rounds": rounds, **figures}


def run_sparse(args: argparse.Namespace) -> list[dict[str, object]]:
    cases = []
    for case in filter(None, args.sparse.split(",")):
        models, votes = (int(x) for x in case.split("x"))
        found = sparse_case(models, votes, args.rounds, args.seed)
        print(
            f"sparse {models} models x {votes} votes x {args.rounds} rounds: {found['seconds']:.2f} s, "
            f"peak RSS {found['peak_rss_mb']:.0f} MB, converged: {found['converged']}"
        )
        cases.append(found)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timings per side; the best counts")
    parser.add_argument("--agree", type=float, default=0.01, help="largest allowed difference, points")
    parser.add_argument("--min-ratio", type=float, default=10.0, help="dense case: baseline / ours")
    parser.add_argument("--sparse", default="150x3000,300x6000", help="MODELSxVOTES,...; empty: none")
    parser.add_argument("--sparse-seconds", type=float, default=30.0, help="budget of the largest case")
    parser.add_argument("--sparse-mb", type=float, default=300.0, help="peak RSS budget of the largest case")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        models, votes = (int(x) for x in args.child.split("x"))
        sparse_child(models, votes, args.rounds, args.seed)
        return
    sparse = run_sparse(args)

    a, b, outcome = simulate(args.votes, args.models, seed=42)
    mine, ours_seconds = timed(args.repeat, ours, a, b, outcome, args.models, args.rounds, args.seed)
    base, base_seconds = timed(args.repeat, baseline, a, b, outcome, args.models, args.rounds, args.seed)
    difference = max(
        float(np.max(np.abs(mine.rating - base.rating))),
        float(np.max(np.abs(mine.lower - base.lower))),
        float(np.max(np.abs(mine.upper - base.upper))),
    )
    same_ranks = bool(np.array_equal(mine.rank, base.rank))
    ratio = base_seconds / ours_seconds
    print(f"votes={args.votes} models={args.models} rounds={args.rounds}")
    print(f"baseline (L-BFGS-B per round): {base_seconds:.2f} s")
    print(f"ours (batched Newton):         {ours_seconds:.3f} s")
    print(f"largest difference in ratings and bounds: {difference:.6f} points; same ranks: {same_ranks}")
    print(
        json.dumps(
            {
                "benchmark": "arena_ratings",
                "votes": args.votes,
                "models": args.models,
                "rounds": args.rounds,
                "baseline_seconds": round(base_seconds, 3),
                "ours_seconds": round(ours_seconds, 3),
                "max_difference_points": difference,
                "same_ranks": same_ranks,
                "ratio": round(ratio, 2),
                "sparse": sparse,
            }
        )
    )
    if difference > args.agree:
        raise SystemExit(f"ratings disagree by {difference} points (> {args.agree})")
    if ratio < args.min_ratio:
        raise SystemExit(f"the dense case's ratio {ratio:.1f} is below {args.min_ratio}")
    if sparse:
        largest = max(sparse, key=lambda c: (int(str(c["models"])), int(str(c["votes"]))))
        if float(str(largest["seconds"])) > args.sparse_seconds:
            raise SystemExit(f"the sparse case took {largest['seconds']} s (> {args.sparse_seconds})")
        if float(str(largest["peak_rss_mb"])) > args.sparse_mb:
            raise SystemExit(f"the sparse case peaked at {largest['peak_rss_mb']} MB (> {args.sparse_mb})")


if __name__ == "__main__":
    main()
