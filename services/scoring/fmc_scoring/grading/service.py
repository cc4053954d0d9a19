"""Grading a run: every item of its suite against its key, accuracy and its bootstrap interval.

The responses are stored with the item grades, so a re-grade (a re-evaluation) reads them back
instead of asking the gateway again, and the same responses give the same numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict
from fmc_common.events.inference import InferenceRunCompleted, InferenceRunFailed
from fmc_common.events.results import RunGraded
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.grading import repository
from fmc_scoring.grading.bootstrap import DEFAULT_SEED, Accuracy, accuracy_with_ci
from fmc_scoring.grading.execution.grade import executor_from, grade_code_all
from fmc_scoring.grading.execution.passk import pass_at_k
from fmc_scoring.grading.execution.runner import Executor
from fmc_scoring.grading.grader import ItemGrade, grade_all
from fmc_scoring.grading.judged_grades import judged_grades
from fmc_scoring.grading.loglikelihood import grade_all_loglikelihood
from fmc_scoring.grading.models import ItemGradeRow, ItemSample, RunGrade
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.planning.models import PlannedRun, RunStatus
from fmc_scoring.suites import service as suites
from fmc_scoring.suites.content import SuiteContent
from fmc_scoring.values import ItemKind


class ResponsesIncomplete(Conflict):
    code = "responses-incomplete"
    title = "The run's responses do not cover its suite's items"


@dataclass(frozen=True)
class Response:
    """One item's record from the gateway: the text, or None when the model gave an error."""

    item_id: str
    text: str | None


async def run_to_grade(session: AsyncSession, run_id: uuid.UUID) -> PlannedRun | None:
    """The planned run a gateway event is about; None for a run scoring did not plan (requested
    directly by an operator) or one already graded."""
    run = await planning_repository.get_run(session, run_id)
    return None if run is None or run.status == RunStatus.GRADED else run


async def grade_completed(
    ctx: ScoringCtx, run: PlannedRun, event: InferenceRunCompleted, responses: Sequence[Response], rounds: int
) -> RunGrade:
    run.status = RunStatus.COMPLETED
    run.completed_at = event.completed_at
    return await grade_run(ctx, run, responses, event.responses_sha256, rounds)


async def record_failure(session: AsyncSession, event: InferenceRunFailed) -> None:
    run = await run_to_grade(session, event.run_id)
    if run is None:
        return
    run.status = RunStatus.FAILED
    run.failure_code = event.code
    run.failure_reason = event.reason
    run.completed_at = event.failed_at


async def grade_run(
    ctx: ScoringCtx,
    run: PlannedRun,
    responses: Sequence[Response],
    responses_sha256: str,
    rounds: int,
    samples: Sequence[Sequence[Response]] = (),
) -> RunGrade:
    """Grade (or grade again) the run from these responses; replaces any earlier grade of the run.
    ``samples``: the responses of the run's further samples (1 to n-1) when the stage grades the
    suite by pass@k over n samples (``responses`` are sample 0's)."""
    suite = await suites.get_suite(ctx.session, run.suite_id)
    content = await suites.load_content(ctx.session, suite)
    by_item = _by_item(run, content, responses)
    sampled = [_by_item(run, content, extra) for extra in samples]
    outcomes: list[list[ItemGrade]] = []
    if sampled:
        _, k = await criteria_service.sampling(ctx.session, run.stage_id, run.suite_id)
        grades, outcomes = await sampled_grades(content, [by_item, *sampled], k, executor_from(ctx.settings))
    else:
        grades = await _grades(ctx, run, content, by_item)
    accuracy = accuracy_with_ci([g.credit for g in grades], rounds=rounds, seed=DEFAULT_SEED)
    await repository.clear(ctx.session, run.id)
    await ctx.session.flush()
    if outcomes:
        await ctx.session.execute(insert(ItemSample), _sample_rows(run, [by_item, *sampled], outcomes))
    rows = [
        {
            "run_id": run.id,
            "item_id": item.item_id,
            "seq": seq,
            "response": by_item.get(item.item_id),
            "correct": result.correct,
            "score": result.score,
            "reason": result.reason,
            "extracted": result.extracted,
        }
        for seq, (item, result) in enumerate(zip(content.items, grades, strict=True))
    ]
    # One multi-row insert: thousands of items per run (an ORM object each cost more than grading).
    await ctx.session.execute(insert(ItemGradeRow), rows)
    errored = sum(1 for item in content.items if by_item.get(item.item_id) is None)
    grade = _grade_row(ctx, run, accuracy, errored, responses_sha256)
    grade.key_revision = suite.key_revision
    ctx.session.add(grade)
    run.status = RunStatus.GRADED
    run.responses_sha256 = responses_sha256
    await ctx.session.flush()
    await ctx.outbox.add(ctx.session, _graded(grade))
    return grade


def _by_item(run: PlannedRun, content: SuiteContent, responses: Sequence[Response]) -> dict[str, str | None]:
    by_item = {r.item_id: r.text for r in responses}
    unknown = set(by_item) - {item.item_id for item in content.items}
    if unknown or len(by_item) != len(responses):
        raise ResponsesIncomplete(
            f"run {run.id}: {len(unknown)} unknown item ids, {len(responses) - len(by_item)} duplicates"
        )
    return by_item


async def sampled_grades(
    content: SuiteContent, samples: Sequence[Mapping[str, str | None]], k: int, executor: Executor
) -> tuple[list[ItemGrade], list[list[ItemGrade]]]:
    """Executed code over n samples: each sample's code run against the hidden tests; an item's grade
    describes sample 0's response (its outcome, reason and code) and scores the unbiased pass@k
    estimate over the n samples. Returns the item grades and every sample's outcomes."""
    gradable = [item.gradable() for item in content.items]
    outcomes = [await grade_code_all(gradable, dict(answers), executor) for answers in samples]
    grades = [
        replace(first, score=pass_at_k(len(outcomes), sum(sample[i].correct for sample in outcomes), k))
        for i, first in enumerate(outcomes[0])
    ]
    return grades, outcomes


def _sample_rows(
    run: PlannedRun, samples: Sequence[Mapping[str, str | None]], outcomes: Sequence[Sequence[ItemGrade]]
) -> list[dict[str, object]]:
    return [
        {
            "run_id": run.id,
            "item_id": grade.item_id,
            "sample": sample,
            "response": samples[sample].get(grade.item_id),
            "passed": grade.correct,
            "reason": grade.reason,
        }
        for sample, grades in enumerate(outcomes)
        for grade in grades
    ]


async def _grades(
    ctx: ScoringCtx, run: PlannedRun, content: SuiteContent, by_item: dict[str, str | None]
) -> list[ItemGrade]:
    """By the suite's kind: the judge's stored judgements, code executed in the sandbox, the choices'
    log-likelihoods when the criteria say so, or the key read from the text."""
    if content.kind == ItemKind.JUDGED:
        return await judged_grades(ctx.session, run.id, [item.item_id for item in content.items], by_item)
    gradable = [item.gradable() for item in content.items]
    if content.kind == ItemKind.CODE:
        return await grade_code_all(gradable, by_item, executor_from(ctx.settings))
    normalisation = await criteria_service.loglikelihood_normalisation(
        ctx.session, run.stage_id, run.suite_id
    )
    if normalisation is not None:
        return grade_all_loglikelihood(gradable, by_item, normalisation)
    return grade_all(gradable, by_item)


def _grade_row(
    ctx: ScoringCtx, run: PlannedRun, accuracy: Accuracy, errored: int, responses_sha256: str
) -> RunGrade:
    return RunGrade(
        run_id=run.id,
        stage_id=run.stage_id,
        team_id=run.team_id,
        suite_id=run.suite_id,
        items=accuracy.items,
        correct=accuracy.correct,
        errored=errored,
        accuracy=accuracy.accuracy,
        ci_low=accuracy.ci_low,
        ci_high=accuracy.ci_high,
        level=accuracy.level,
        rounds=accuracy.rounds,
        seed=accuracy.seed,
        responses_sha256=responses_sha256,
        graded_at=ctx.clock.now(),
    )


def _graded(grade: RunGrade) -> RunGraded:
    return RunGraded(
        run_id=grade.run_id,
        stage_id=grade.stage_id,
        team_id=grade.team_id,
        suite_id=grade.suite_id,
        items=grade.items,
        errored=grade.errored,
        accuracy=grade.accuracy,
        ci_low=grade.ci_low,
        ci_high=grade.ci_high,
        responses_sha256=grade.responses_sha256,
        graded_at=grade.graded_at,
    )


async def stored_responses(ctx: ScoringCtx, run_id: uuid.UUID) -> list[Response]:
    return [Response(row.item_id, row.response) for row in await repository.item_grades(ctx.session, run_id)]


async def stored_samples(ctx: ScoringCtx, run_id: uuid.UUID) -> list[list[Response]]:
    """The further samples' responses (1 to n-1) of a run graded by pass@k; empty for any other."""
    samples: dict[int, list[Response]] = {}
    for row in await repository.item_samples(ctx.session, run_id):
        if row.sample > 0:
            samples.setdefault(row.sample, []).append(Response(row.item_id, row.response))
    return [samples[sample] for sample in sorted(samples)]


async def regrade(ctx: ScoringCtx, run: PlannedRun, rounds: int) -> RunGrade | None:
    """Grade again from the stored responses (None: the run was never graded)."""
    grade = await repository.grade(ctx.session, run.id)
    if grade is None:
        return None
    sha = grade.responses_sha256
    stored = await stored_responses(ctx, run.id)
    return await grade_run(ctx, run, stored, sha, rounds, await stored_samples(ctx, run.id))
