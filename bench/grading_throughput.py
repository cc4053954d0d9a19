"""Grading throughput of the kinds that do more than compare text, one function per scenario.

``executed`` (-> ``ratio_executed``): code items graded through the real grading function
(``grade_code_all``: code extracted from the answer, run against its hidden tests) with the
sandbox (bubblewrap, as tests and development run it) against the same code, the same tests and
the same concurrency run without it (a plain subprocess of the same program, the same limits set
on itself): executed items per second of each, rounds alternating the two, and the ratio of the
medians (target: at least 0.3). The items are small functions, half answered right, a quarter
wrong, a quarter without code, the mix a real suite sees.

Each scenario prints its rounds and medians; the last line is JSON with every scenario's figures.

    .venv/bin/python bench/grading_throughput.py [--scenarios executed] [--items 200] [--rounds 3]
        [--concurrency 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fmc_scoring.grading.execution.grade import grade_code_all
from fmc_scoring.grading.execution.runner import Executor
from fmc_scoring.grading.execution.sandbox import Limits, Runtime
from fmc_scoring.values import AnswerKey, GradableItem, ItemKind

Scenario = Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]

RIGHT = "Here it is:\n```python\ndef scale(xs, k):\n    return [x * k for x in xs]\n```"
WRONG = "```python\ndef scale(xs, k):\n    return [x + k for x in xs]\n```"
PROSE = "Multiply each element by k."
TESTS = "assert scale([1, 2, 3], {k}) == [{a}, {b}, {c}]\nassert candidate([], 5) == []\n"


def code_items(count: int) -> tuple[list[GradableItem], dict[str, str | None]]:
    items: list[GradableItem] = []
    answers: dict[str, str | None] = {}
    for n in range(count):
        k = n % 7 + 2
        tests = TESTS.format(k=k, a=k, b=2 * k, c=3 * k)
        item_id = f"scale-{n:05d}"
        items.append(GradableItem(item_id, AnswerKey(ItemKind.CODE, tests=tests, entry_point="scale")))
        answers[item_id] = (RIGHT, RIGHT, WRONG, PROSE)[n % 4]
    return items, answers


async def _rate(executor: Executor, items: list[GradableItem], answers: dict[str, str | None]) -> float:
    started = time.perf_counter()
    grades = await grade_code_all(items, answers, executor)
    elapsed = time.perf_counter() - started
    assert sum(g.correct for g in grades) == sum(1 for n in range(len(items)) if n % 4 < 2)
    return len(items) / elapsed


async def executed(args: argparse.Namespace) -> dict[str, Any]:
    """Executed items per second, sandboxed against plain, in the same run."""
    items, answers = code_items(args.items)
    limits = Limits()
    sandboxed = Executor(Runtime(), limits, args.concurrency, sandboxed=True, run_as=65534)
    plain = Executor(Runtime(), limits, args.concurrency, sandboxed=False)
    rates: dict[str, list[float]] = {"sandbox": [], "plain": []}
    for round_number in range(1, args.rounds + 1):
        for name, executor in (("plain", plain), ("sandbox", sandboxed)):
            rates[name].append(await _rate(executor, items, answers))
        print(
            f"executed round {round_number}: plain {rates['plain'][-1]:.1f} items/s, "
            f"sandbox {rates['sandbox'][-1]:.1f} items/s"
        )
    plain_median, sandbox_median = statistics.median(rates["plain"]), statistics.median(rates["sandbox"])
    ratio = sandbox_median / plain_median
    print(f"executed: plain {plain_median:.1f}/s, sandbox {sandbox_median:.1f}/s, ratio {ratio:.2f}")
    return {
        "executed_items": args.items,
        "executed_concurrency": args.concurrency,
        "executed_plain_per_s": round(plain_median, 1),
        "executed_sandbox_per_s": round(sandbox_median, 1),
        "ratio_executed": round(ratio, 3),
    }


SCENARIOS: dict[str, Scenario] = {"executed": executed}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    chosen = [name for name in args.scenarios.split(",") if name]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {sorted(SCENARIOS)}")
    figures: dict[str, Any] = {}
    for name in chosen:
        figures |= await SCENARIOS[name](args)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
