"""Planning a stage's runs when its evaluation starts; the items each run may fetch."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict, InvalidInput, NotFound
from fmc_common.events.inference import (
    DecodingParameters,
    GpuPool,
    InferenceProtocol,
    ItemsSource,
    RunEndpoint,
    RunLimits,
    RunScoring,
    ServingConvention,
    SuiteReference,
    run_request,
)
from fmc_common.events.registry import EvaluationStarted, FrozenSubmission
from fmc_scoring.audit import service as audit
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.judging import repository as judging
from fmc_scoring.judging import service as judging_service
from fmc_scoring.planning import repository
from fmc_scoring.planning.models import EvaluatedSubmission, Evaluation, PlannedRun, RunStatus, SampleRun
from fmc_scoring.suites import service as suites
from fmc_scoring.suites.content import sha256_hex
from fmc_scoring.suites.models import Suite
from fmc_scoring.values import ChoiceScoring

SEED_LIMIT = 2**31 - 1
"""The largest decoding seed (``DecodingParameters.seed``); a sample's seed wraps around below it."""


class RunNotFound(NotFound):
    code = "run-not-found"
    title = "No such run"


class SubmissionEndpointInvalid(InvalidInput):
    code = "submission-endpoint-invalid"
    title = "The submission's endpoint cannot be run"


class PlacesMismatch(Conflict):
    code = "criteria-places-mismatch"
    title = "The criteria advance another number of teams than the stage plans"


def run_endpoint(submission: FrozenSubmission) -> RunEndpoint:
    endpoint = submission.endpoint
    try:
        return RunEndpoint(
            url=endpoint.url,
            model_name=endpoint.model_name,
            model_version=endpoint.model_version,
            protocol=InferenceProtocol(endpoint.protocol.lower()),
            gpu_pool=GpuPool(endpoint.gpu_pool.upper()),
            convention=ServingConvention(endpoint.convention.lower()),
            chat_template=endpoint.chat_template,
        )
    except ValueError as exc:
        raise SubmissionEndpointInvalid(f"submission {submission.submission_id}: {exc}") from exc


def items_uri(base_url: str, run_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/v1/runs/{run_id}/items"


async def plan_evaluation(ctx: ScoringCtx, event: EvaluationStarted, items_base_url: str) -> list[PlannedRun]:
    """Freeze the criteria and request one run per submission x suite (in this transaction)."""
    if await repository.evaluation(ctx.session, event.stage_id) is not None:
        return await repository.runs_of_stage(ctx.session, event.stage_id)
    criteria = await criteria_service.get(ctx.session, event.stage_id)
    if event.planned_advancing is not None and criteria.row.advancing != event.planned_advancing:
        # The places decide who gets the money: a stage ranked for another number of places than
        # the programme planned must not start. Fix the criteria, then replay the dead letter.
        raise PlacesMismatch(
            f"the criteria of stage {event.stage_id} advance {criteria.row.advancing} team(s); "
            f"the registry's stage plans {event.planned_advancing}"
        )
    # A judged suite without a judge could never be graded: refuse to start, as for the places.
    now = ctx.clock.now()
    await judging.require_judges(ctx.session, [suite for _, suite in criteria.suites], now)
    criteria = await criteria_service.freeze(ctx, event.stage_id, event.started_at)
    ctx.session.add(
        Evaluation(
            stage_id=event.stage_id,
            programme_id=event.programme_id,
            stage_number=event.stage_number,
            started_at=event.started_at,
            planned_at=now,
            objection_days=event.objection_days,
        )
    )
    await ctx.session.flush()
    decoding = DecodingParameters.model_validate(criteria.row.decoding)
    limits = RunLimits.model_validate(criteria.row.limits)
    runs = []
    for submission in sorted(event.submissions, key=lambda s: str(s.team_id)):
        endpoint = run_endpoint(submission)
        ctx.session.add(
            EvaluatedSubmission(
                stage_id=event.stage_id,
                team_id=submission.team_id,
                submission_id=submission.submission_id,
                version=submission.version,
                endpoint=submission.endpoint.model_dump(),
                manifest_digest=submission.manifest_digest,
            )
        )
        for link, suite in criteria.suites:
            scoring = RunScoring.LOGLIKELIHOOD if link.scoring == ChoiceScoring.LOGLIKELIHOOD else None
            run = await _request_run(
                ctx, event, submission, suite, endpoint, decoding, limits, items_base_url, scoring
            )
            runs.append(run)
            for sample in range(1, link.samples or 1):
                await _request_sample(ctx, run, sample, suite, endpoint, decoding, limits, items_base_url)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="evaluation.planned",
        entity_type="stage",
        entity_id=event.stage_id,
        details={"runs": len(runs), "submissions": len(event.submissions)},
    )
    return runs


async def _request_run(
    ctx: ScoringCtx,
    event: EvaluationStarted,
    submission: FrozenSubmission,
    suite: Suite,
    endpoint: RunEndpoint,
    decoding: DecodingParameters,
    limits: RunLimits,
    items_base_url: str,
    scoring: RunScoring | None = None,
) -> PlannedRun:
    """Record the run and ask the gateway for it; a log-likelihood run's items are contexts and
    continuations, announced with that document's own sha256."""
    run = PlannedRun(
        id=uuid.uuid4(),
        stage_id=event.stage_id,
        team_id=submission.team_id,
        submission_id=submission.submission_id,
        suite_id=suite.id,
        status=RunStatus.REQUESTED,
        requested_at=ctx.clock.now(),
    )
    ctx.session.add(run)
    items_sha256 = suite.items_sha256
    if scoring == RunScoring.LOGLIKELIHOOD:
        items_sha256 = sha256_hex(await suites.loglikelihood_items(ctx.session, suite))
    extra = {} if scoring is None else {"scoring": scoring}
    await ctx.outbox.add(
        ctx.session,
        # v1 unless the endpoint's convention is one v1 cannot say (then v2, the same fields).
        run_request(
            run_id=run.id,
            stage_id=event.stage_id,
            submission_id=submission.submission_id,
            team_id=submission.team_id,
            endpoint=endpoint,
            suite=SuiteReference(
                suite_id=str(suite.id), version=suite.version, content_hash=suite.content_hash
            ),
            items=ItemsSource(
                uri=items_uri(items_base_url, run.id), item_count=suite.item_count, sha256=items_sha256
            ),
            decoding=decoding,
            limits=limits,
            requested_at=run.requested_at,
            **extra,
        ),
    )
    return run


async def _request_sample(
    ctx: ScoringCtx,
    run: PlannedRun,
    sample: int,
    suite: Suite,
    endpoint: RunEndpoint,
    decoding: DecodingParameters,
    limits: RunLimits,
    items_base_url: str,
) -> SampleRun:
    """One more run of the planned run's suite for pass@k: the same items, model and decoding but
    the seed (the stage's plus the sample's number), so that a sampling model answers anew."""
    seed = (decoding.seed + sample) % (SEED_LIMIT + 1)
    sample_run = SampleRun(
        id=uuid.uuid4(),
        team_run_id=run.id,
        sample=sample,
        seed=seed,
        status=RunStatus.REQUESTED,
        requested_at=ctx.clock.now(),
    )
    ctx.session.add(sample_run)
    await ctx.outbox.add(
        ctx.session,
        run_request(
            run_id=sample_run.id,
            stage_id=run.stage_id,
            submission_id=run.submission_id,
            team_id=run.team_id,
            endpoint=endpoint,
            # Each sample is its own group for the gateway's fairness check (every team's run of a
            # suite in a stage asks the same decoding): sample s of every team asks the same seed.
            suite=SuiteReference(
                suite_id=str(suite.id),
                version=f"{suite.version[:30]}+sample.{sample}",
                content_hash=sha256_hex(f"{suite.content_hash}+sample.{sample}".encode()),
            ),
            items=ItemsSource(
                uri=items_uri(items_base_url, sample_run.id),
                item_count=suite.item_count,
                sha256=suite.items_sha256,
            ),
            decoding=decoding.model_copy(update={"seed": seed}),
            limits=limits,
            requested_at=sample_run.requested_at,
        ),
    )
    return sample_run


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> PlannedRun:
    run = await repository.get_run(session, run_id)
    if run is None:
        raise RunNotFound(f"no run with id {run_id}")
    return run


async def run_items(session: AsyncSession, run_id: uuid.UUID) -> bytes:
    """The prompts of the run's suite as JSON Lines (the bytes whose sha256 the request announced);
    for a log-likelihood suite its contexts and continuations; for a judge run (docs/scoring.md,
    "Judged answers"), its stored judge prompts, under the same path so that the gateway's allowed
    items URLs need no second base."""
    run = await repository.get_run(session, run_id)
    if run is None and (sample_run := await repository.sample_run(session, run_id)) is not None:
        run = await repository.get_run(session, sample_run.team_run_id)  # the same items, another seed
    if run is None:
        judge_items = await judging_service.judge_items(session, run_id)
        if judge_items is None:
            raise RunNotFound(f"no run with id {run_id}")
        return judge_items
    suite = await suites.get_suite(session, run.suite_id)
    if await criteria_service.loglikelihood_normalisation(session, run.stage_id, run.suite_id) is not None:
        return await suites.loglikelihood_items(session, suite)
    return await suites.prompts_document(session, suite)
