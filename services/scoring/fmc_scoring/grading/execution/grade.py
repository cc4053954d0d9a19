"""Grading ``code`` items: extract the answer's code, run it against the hidden tests, pass or fail.

Each sample is graded here with its pass@1 as the score; a stage that asks for ``n`` samples per
item scores each item by ``passk.pass_at_k`` over them (``grading.service.sampled_grades``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from fmc_scoring.grading.execution.extract import extract_code
from fmc_scoring.grading.execution.passk import pass_at_k
from fmc_scoring.grading.execution.runner import Executor, Outcome
from fmc_scoring.grading.execution.sandbox import Limits, Runtime
from fmc_scoring.grading.grader import GradeReason, ItemGrade
from fmc_scoring.settings import ScoringSettings
from fmc_scoring.values import GradableItem

log = logging.getLogger(__name__)
_REASONS: dict[Outcome, GradeReason] = {o: GradeReason(o.value) for o in Outcome if o != Outcome.PASSED}


def executor_from(settings: ScoringSettings) -> Executor:
    runtime = Runtime(settings.sandbox_python, tuple(settings.sandbox_binds), settings.sandbox_bwrap)
    limits = Limits(
        cpu_seconds=settings.sandbox_cpu_seconds,
        memory_bytes=settings.sandbox_memory_mb * 1024 * 1024,
        processes=settings.sandbox_max_processes,
        wall_seconds=settings.sandbox_wall_seconds,
        output_bytes=settings.sandbox_output_bytes,
    )
    return Executor(runtime, limits, settings.sandbox_concurrency, run_as=settings.sandbox_run_as)


async def grade_code(item: GradableItem, response: str | None, executor: Executor) -> ItemGrade:
    """Every code grade carries its pass@1 as ``score``, 0 when nothing could be run."""
    if response is None:
        return ItemGrade(item.item_id, False, GradeReason.INFERENCE_ERROR, None, score=0.0)
    code = extract_code(response)
    if code is None:
        return ItemGrade(item.item_id, False, GradeReason.NO_CODE_FOUND, None, score=0.0)
    assert item.key.tests is not None  # checked by AnswerKey
    execution = await executor.run(code, item.key.tests, item.key.entry_point)
    passed = execution.outcome == Outcome.PASSED
    if execution.outcome in {Outcome.RUNTIME_ERROR, Outcome.SANDBOX_ERROR}:
        log.info(
            "item %s: %s (status %s): %s",
            item.item_id,
            execution.outcome,
            execution.returncode,
            execution.stderr[-300:].decode(errors="replace"),
        )
    reason = GradeReason.CORRECT if passed else _REASONS[execution.outcome]
    score = pass_at_k(n=1, c=int(passed), k=1)
    return ItemGrade(item.item_id, passed, reason, code.strip()[:200], score=score)


async def grade_code_all(
    items: Sequence[GradableItem], responses: dict[str, str | None], executor: Executor
) -> list[ItemGrade]:
    """Every item, in suite order, executed concurrently up to the executor's limit."""
    return list(await asyncio.gather(*(grade_code(i, responses.get(i.item_id), executor) for i in items)))
