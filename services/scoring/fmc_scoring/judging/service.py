"""Judged answers: a suite's judge, the judge runs scoring requests, and reading their judgements.

The flow (docs/scoring.md, "Judged answers"): a team's run of a judged suite completes -> scoring
renders one judge prompt per item and position from the answers, stores that items document and
requests a gateway run of the judge endpoint on it -> that run completes -> each judgement is parsed
and stored with the raw output; the still unparsable ones are asked again in a new judge run, up to
the judge's ``max_attempts`` -> the team's run is graded from the judgements (``judged_grades``).

The judge run carries no team: its ``team_id`` and ``submission_id`` are ``JUDGE_ID`` (a fixed id of
no team), so neither the judge model nor the gateway's records of the judge run say whose answers
they are, and no team can read them (they hold the reference answers).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import InvalidInput, NotFound
from fmc_common.events.inference import (
    DecodingParameters,
    InferenceRunRequested,
    InferenceRunRequestedV2,
    ItemsSource,
    RunEndpoint,
    SuiteReference,
    run_request,
)
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.experts import service as experts
from fmc_scoring.grading import repository as grading_repository
from fmc_scoring.grading import service as grading
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.grading.models import RunGrade
from fmc_scoring.judging import repository
from fmc_scoring.judging.agreement import average_ranks, spearman
from fmc_scoring.judging.models import Judgement, JudgeRun, JudgeRunStatus, SuiteJudge
from fmc_scoring.judging.repository import JudgeNotSet
from fmc_scoring.judging.schemas import AgreementOut, TeamAgreement
from fmc_scoring.judging.verdicts import JudgeMode, Position, judge_prompt, parse, positions
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.planning.models import PlannedRun, RunStatus
from fmc_scoring.suites import service as suites
from fmc_scoring.suites.content import SuiteContent
from fmc_scoring.values import ItemKind

JUDGE_ID = uuid.UUID("00000000-0000-5000-8000-6a7564676521")
"""The team and submission id of every judge run: no team's (version 5 layout, never issued)."""

SEPARATOR = "~"
"""Between an item id (which has no whitespace, and no ``~`` in practice) and its position."""


class SuiteNotJudged(InvalidInput):
    code = "suite-not-judged"
    title = "Only a suite of kind `judged` takes a judge"


class JudgeRunNotFound(NotFound):
    code = "judge-run-not-found"
    title = "No such judge run"


def _content_sha256(fields: Mapping[str, object]) -> str:
    encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


async def set_judge(
    ctx: ScoringCtx,
    suite_id: uuid.UUID,
    mode: JudgeMode,
    endpoint: RunEndpoint,
    template: str,
    template_version: str,
    rubric: str,
    max_tokens: int,
    max_attempts: int,
) -> SuiteJudge:
    """A new revision of the suite's judge; the same content again returns the revision in force.
    Runs already judged keep the revision they were judged under."""
    suite = await suites.get_suite(ctx.session, suite_id)
    if suite.kind != ItemKind.JUDGED:
        raise SuiteNotJudged(f"suite {suite.key}@{suite.version} is {suite.kind}")
    fields = {
        "mode": str(mode),
        "endpoint": endpoint.model_dump(mode="json"),
        "template": template,
        "template_version": template_version,
        "rubric": rubric,
        "max_tokens": max_tokens,
        "max_attempts": max_attempts,
    }
    digest = _content_sha256(fields)
    current = await repository.judge_in_force(ctx.session, suite_id)
    if current is not None and current.content_sha256 == digest:
        return current
    judge = SuiteJudge(
        suite_id=suite_id,
        revision=1 if current is None else current.revision + 1,
        mode=mode,
        endpoint=fields["endpoint"],
        template=template,
        template_version=template_version,
        rubric=rubric,
        max_tokens=max_tokens,
        max_attempts=max_attempts,
        content_sha256=digest,
        created_by=ctx.actor.subject,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(judge)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="suite.judge-set",
        entity_type="suite",
        entity_id=suite_id,
        details={"revision": judge.revision, "mode": str(mode), "content_sha256": digest},
    )
    return judge


async def get_judge(session: AsyncSession, suite_id: uuid.UUID) -> SuiteJudge:
    judge = await repository.judge_in_force(session, suite_id)
    if judge is None:
        raise JudgeNotSet(f"suite {suite_id} has no judge")
    return judge


async def judge_of_stage(session: AsyncSession, run: PlannedRun) -> SuiteJudge:
    """The judge in force when scoring planned the stage's runs: the same for every team of the
    stage, whatever revision an operator sets later (that one applies to later stages)."""
    evaluation = await planning_repository.evaluation(session, run.stage_id)
    at = evaluation.planned_at if evaluation is not None else run.requested_at
    judge = await repository.judge_as_of(session, run.suite_id, at)
    if judge is None:
        raise JudgeNotSet(f"suite {run.suite_id} had no judge when stage {run.stage_id} started")
    return judge


def judge_item_id(item_id: str, position: Position) -> str:
    return f"{item_id}{SEPARATOR}{position}"


def split_item_id(judge_item: str) -> tuple[str, Position]:
    item_id, _, position = judge_item.rpartition(SEPARATOR)
    return item_id, Position(position)


def judge_document(
    judge: SuiteJudge,
    content: SuiteContent,
    answers: Mapping[str, str | None],
    wanted: set[tuple[str, Position]],
) -> bytes:
    """The judge's items document: JSON Lines ``{"item_id", "prompt"}`` (the items document format),
    one line per wanted (item, position) in suite order. Only the question, the answer, the reference
    and the rubric go in: nothing names the team."""
    lines = []
    for item in content.items:
        reference = item.key.answers[0] if item.key.answers else ""
        for position in positions(judge.mode):
            if (item.item_id, position) not in wanted:
                continue
            answer = answers.get(item.item_id) or ""
            prompt = judge_prompt(judge.template, judge.rubric, position, item.prompt, answer, reference)
            record = {"item_id": judge_item_id(item.item_id, position), "prompt": prompt}
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return b"".join(lines)


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
            uri=f"{items_base_url.rstrip('/')}/v1/judge-runs/{judge_run.id}/items",
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
    for output in outputs:
        item_id, position = split_item_id(output.item_id)
        parsed = parse(position, output.text)
        ctx.session.add(
            Judgement(
                team_run_id=judge_run.team_run_id,
                item_id=item_id,
                position=position,
                attempt=judge_run.attempt,
                judge_run_id=judge_run.id,
                raw_output=output.text,
                parsed=parsed.ok,
                rating=parsed.rating,
                outcome=parsed.outcome,
            )
        )
        if not parsed.ok:
            unparsable.add((item_id, position))
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


async def judge_items(session: AsyncSession, judge_run_id: uuid.UUID) -> bytes:
    judge_run = await repository.judge_run(session, judge_run_id)
    if judge_run is None:
        raise JudgeRunNotFound(f"no judge run with id {judge_run_id}")
    return judge_run.document.encode()


async def agreement(session: AsyncSession, stage_id: uuid.UUID) -> AgreementOut:
    """Judge and panel on the stage's teams that both scored (module ``agreement``)."""
    credits: dict[uuid.UUID, list[float]] = {}
    for grade, run in await grading_repository.grades_of_stage(session, stage_id):
        if await judged(session, run):
            credits.setdefault(run.team_id, []).append(grade.accuracy)
    panel = await experts.panel_scores(session, stage_id)
    teams = sorted(set(credits) & set(panel), key=str)
    judge_side = [sum(credits[t]) / len(credits[t]) for t in teams]
    panel_side = [panel[t].value for t in teams]
    judge_ranks, panel_ranks = average_ranks(judge_side), average_ranks(panel_side)
    return AgreementOut(
        stage_id=stage_id,
        teams=[
            TeamAgreement(
                team_id=team,
                judged_credit=judge_side[i],
                panel_score=panel_side[i],
                judge_rank=judge_ranks[i],
                panel_rank=panel_ranks[i],
            )
            for i, team in enumerate(teams)
        ],
        spearman=spearman(judge_side, panel_side),
    )
