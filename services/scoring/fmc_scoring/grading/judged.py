"""Judged runs: a team's run of a judged suite goes to the judge before it is graded.

The flow (docs/scoring.md, "Judged answers"): the team's run completes -> one judge prompt per
answered item and position goes into a judge items document, stored, and a gateway run of the
judge's endpoint is requested on it (no team on it: ``judging.service.JUDGE_ID``) -> that run
completes -> each judgement is stored with the judge's raw output and what was parsed from it; the
unparsable ones are asked again in a new judge run while the judge's ``max_attempts`` allow -> the
team's run is graded from the judgements (``judged_grades``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.inference import (
    DecodingParameters,
    InferenceRunRequested,
    InferenceRunRequestedV2,
    ItemsSource,
    RunEndpoint,
    SuiteReference,
    run_request,
)
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.grading import service as grading
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.grading.models import RunGrade
from fmc_scoring.judging import repository
from fmc_scoring.judging.models import Judgement, JudgeRun, JudgeRunStatus, SuiteJudge
from fmc_scoring.judging.repository import JudgeNotSet
from fmc_scoring.judging.service import JUDGE_ID, judge_document, split_item_id
from fmc_scoring.judging.verdicts import Position, parse, positions
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.planning.models import PlannedRun, RunStatus
from fmc_scoring.planning.service import items_uri
from fmc_scoring.suites import service as suites
from fmc_scoring.values import ItemKind


async def judge_of_stage(session: AsyncSession, run: PlannedRun) -> SuiteJudge:
    """The judge in force when scoring planned the stage's runs: the same for every team of the
    stage, whatever revision an operator sets later (that one applies to later stages)."""
    evaluation = await planning_repository.evaluation(session, run.stage_id)
    at = evaluation.planned_at if evaluation is not None else run.requested_at
    judge = await repository.judge_as_of(session, run.suite_id, at)
    if judge is None:
        raise JudgeNotSet(f"suite {run.suite_id} had no judge when stage {run.stage_id} started")
    return judge


async def judged(session: AsyncSession, run: PlannedRun) -> bool:
    return (await suites.get_suite(session, run.suite_id)).kind == ItemKind.JUDGED


async def request_judgement(
    ctx: ScoringCtx,
    run: PlannedRun,
    completed_at: datetime,
    responses: Sequence[grading.Response],
    responses_sha256: str,
    items_base_url: str,
    rounds: int,
) -> None:
    """The team's run completed: ask the judge about every answered item (once per redelivery)."""
    if await repository.attempts(ctx.session, run.id):
        return
    run.status = RunStatus.COMPLETED
    run.completed_at = completed_at
    run.responses_sha256 = responses_sha256
    judge = await judge_of_stage(ctx.session, run)
    answers = {r.item_id: r.text for r in responses}
    answered = [item_id for item_id, text in answers.items() if text is not None]
    wanted = {(item_id, p) for item_id in answered for p in positions(judge.mode)}
    await _request(ctx, run, judge, answers, wanted, 1, items_base_url)
    if not wanted:  # nothing answered: nothing to judge, the run is graded now (all inference errors)
        await grading.grade_run(ctx, run, responses, responses_sha256, rounds)


async def _request(
    ctx: ScoringCtx,
    run: PlannedRun,
    judge: SuiteJudge,
    answers: Mapping[str, str | None],
    wanted: set[tuple[str, Position]],
    attempt: int,
    items_base_url: str,
) -> JudgeRun:
    suite = await suites.get_suite(ctx.session, run.suite_id)
    content = await suites.load_content(ctx.session, suite)
    document = judge_document(judge, content, answers, wanted)
    judge_run = JudgeRun(
        id=uuid.uuid4(),
        team_run_id=run.id,
        suite_id=suite.id,
        judge_revision=judge.revision,
        attempt=attempt,
        item_count=len(wanted),
        document=document.decode(),
        items_sha256=hashlib.sha256(document).hexdigest(),
        status=JudgeRunStatus.REQUESTED if wanted else JudgeRunStatus.COMPLETED,
        requested_at=ctx.clock.now(),
    )
    ctx.session.add(judge_run)
    await ctx.session.flush()
    if wanted:
        request = _judge_request(judge_run, run, judge, suite.version, items_base_url)
        await ctx.outbox.add(ctx.session, request)
    return judge_run


def _judge_request(
    judge_run: JudgeRun, run: PlannedRun, judge: SuiteJudge, version: str, items_base_url: str
) -> InferenceRunRequested | InferenceRunRequestedV2:
    return run_request(
        run_id=judge_run.id,
        stage_id=run.stage_id,
        submission_id=JUDGE_ID,
        team_id=JUDGE_ID,
        endpoint=RunEndpoint.model_validate(judge.endpoint),
        suite=SuiteReference(
            suite_id=str(judge_run.suite_id),
            version=f"{version[:30]}+judge.{judge.revision}",
            content_hash=judge.content_sha256,
        ),
        items=ItemsSource(
            uri=items_uri(items_base_url, judge_run.id),
            item_count=judge_run.item_count,
            sha256=judge_run.items_sha256,
        ),
        decoding=DecodingParameters(max_tokens=judge.max_tokens, temperature=0.0),
        requested_at=judge_run.requested_at,
    )


async def judge_run_to_read(session: AsyncSession, run_id: uuid.UUID) -> JudgeRun | None:
    """The judge run a gateway event is about, while it waits for its judgements; else None."""
    judge_run = await repository.judge_run(session, run_id)
    return judge_run if judge_run is not None and judge_run.status == JudgeRunStatus.REQUESTED else None


async def record_judgements(
    ctx: ScoringCtx,
    judge_run: JudgeRun,
    completed_at: datetime,
    outputs: Sequence[grading.Response],
    gateway: GatewayClient,
    items_base_url: str,
    rounds: int,
) -> RunGrade | None:
    """Store each judgement with its raw output; ask the unparsable ones again while attempts remain;
    then grade the team's run from the judgements (None while a retry is pending)."""
    judge_run.status = JudgeRunStatus.COMPLETED
    judge_run.completed_at = completed_at
    unparsable: set[tuple[str, Position]] = set()
    rows = []
    for output in outputs:
        item_id, position = split_item_id(output.item_id)
        parsed = parse(position, output.text)
        rows.append(
            {
                "team_run_id": judge_run.team_run_id,
                "item_id": item_id,
                "position": position,
                "attempt": judge_run.attempt,
                "judge_run_id": judge_run.id,
                "raw_output": output.text,
                "parsed": parsed.ok,
                "rating": parsed.rating,
                "outcome": parsed.outcome,
            }
        )
        if not parsed.ok:
            unparsable.add((item_id, position))
    if rows:  # one multi-row insert: thousands of judgements per run
        await ctx.session.execute(insert(Judgement), rows)
    await ctx.session.flush()
    run = await grading.run_to_grade(ctx.session, judge_run.team_run_id)
    if run is None:
        return None
    judge = await repository.judge_revision(ctx.session, judge_run.suite_id, judge_run.judge_revision)
    assert judge is not None  # the revision the judge run was requested under
    assert run.responses_sha256 is not None  # set when the judgement was requested
    responses = await gateway.responses(run.id, run.responses_sha256)
    if unparsable and judge_run.attempt < judge.max_attempts:
        answers = {r.item_id: r.text for r in responses}
        await _request(ctx, run, judge, answers, unparsable, judge_run.attempt + 1, items_base_url)
        return None
    return await grading.grade_run(ctx, run, responses, run.responses_sha256, rounds)


async def record_failure(
    session: AsyncSession, judge_run: JudgeRun, failed_at: datetime, reason: str
) -> None:
    """The judge's run failed: the team's run cannot be graded; it is marked failed with the reason
    (an operator re-runs the judge by a re-evaluation)."""
    judge_run.status = JudgeRunStatus.FAILED
    judge_run.completed_at = failed_at
    judge_run.failure_reason = reason
    run = await grading.run_to_grade(session, judge_run.team_run_id)
    if run is not None:
        run.status = RunStatus.FAILED
        run.failure_code = "judge-run-failed"
        run.failure_reason = reason[:2000]
