"""Stage results: proposing a version from the evidence, approving and publishing it, reading it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict, NotFound
from fmc_common.events.results import Correction, StageResultProposed
from fmc_scoring.audit import service as audit
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.results import finality, publication, repository
from fmc_scoring.results.decision import Proposal, Rules, TeamDecision, propose, short_of_votes
from fmc_scoring.results.detail import TeamDetail, TeamInputs
from fmc_scoring.results.evidence import StageEvidence, close_evidence, gather, initial_cutoff, rules
from fmc_scoring.results.models import Cause, ResultStatus, StageResult, TeamResult
from fmc_scoring.results.originality_gate import OriginalityVerdicts
from fmc_scoring.values import Part

# The public category of a correction, by the cause of the version (anything else: a revision).
_CORRECTION: dict[str, Correction] = {Cause.RE_EVALUATION: "re-evaluation", Cause.REOPENING: "reopening"}


class EvaluationNotStarted(Conflict):
    code = "evaluation-not-started"
    title = "The stage's evaluation has not started: there is nothing to decide yet"


class ResultNotFound(NotFound):
    code = "result-not-found"
    title = "No such result version"


class ResultNotPublished(NotFound):
    code = "result-not-published"
    title = "No result of this stage has been published"


class ResultNotProposed(Conflict):
    code = "result-not-proposed"
    title = "Only a proposed result version can be approved"


class ResultSuperseded(Conflict):
    code = "result-superseded"
    title = "A newer result version exists; approve that one"


class ArenaVotesInsufficient(Conflict):
    code = "arena-votes-insufficient"
    title = "A model has fewer counted arena votes than the stage's criteria require"


class ResultBlocked(Conflict):
    code = "result-blocked"
    title = "The result has open questions (pending gates or missing parts) and cannot be approved"


async def propose_result(
    ctx: ScoringCtx,
    stage_id: uuid.UUID,
    verdicts: OriginalityVerdicts,
    arena_rounds: int,
    *,
    cause: Cause = Cause.INITIAL,
    cause_id: uuid.UUID | None = None,
    reason: str | None = None,
    evidence: StageEvidence | None = None,
) -> StageResult:
    """A new version from the stage's current evidence within its cut-off (or from ``evidence``
    composed by a re-evaluation); older proposed versions are superseded.

    Refused for a final stage (``stage-final``). After a reopening, an operator's version is a
    ``reopening`` correction."""
    evaluation = await finality.lock_stage(ctx.session, stage_id)
    if evaluation is None:
        raise EvaluationNotStarted(f"the evaluation of stage {stage_id} has not started")
    await finality.refuse_if_final(ctx.session, stage_id)
    state = await finality.state(ctx.session, stage_id)
    if cause == Cause.INITIAL and state is not None and state.reopening_id is not None:
        cause, cause_id = Cause.REOPENING, state.reopening_id
    criteria = await criteria_service.get(ctx.session, stage_id)
    if evidence is None:
        cutoff = initial_cutoff(criteria, ctx.clock.now())
        evidence = await gather(ctx.session, stage_id, criteria, verdicts, arena_rounds, cutoff)
    stage_rules = rules(criteria)
    _refuse_if_short_of_votes(stage_rules, evidence)
    proposal = propose(stage_id, stage_rules, evidence.teams)
    for earlier in await repository.versions(ctx.session, stage_id):
        if earlier.status == ResultStatus.PROPOSED:
            earlier.status = ResultStatus.SUPERSEDED
    result = _result_row(ctx, stage_id, proposal, await repository.last_version(ctx.session, stage_id) + 1)
    result.cause, result.cause_id, result.cause_reason = cause, cause_id, reason
    result.inputs = evidence.record(criteria.row.revision).model_dump(mode="json")
    ctx.session.add(result)
    await ctx.session.flush()
    for decision in proposal.teams:
        ctx.session.add(_team_row(result.id, decision, evidence.inputs[decision.team_id]))
    await ctx.session.flush()
    await ctx.outbox.add(
        ctx.session,
        StageResultProposed(
            stage_id=stage_id,
            result_id=result.id,
            version=result.version,
            cause=result.cause,
            blocking=len(result.blocking),
            proposed_at=result.proposed_at,
        ),
    )
    await audit.record(
        ctx,
        action="result.proposed",
        entity_type="stage-result",
        entity_id=result.id,
        reason=reason,
        details={"stage_id": str(stage_id), "version": result.version, "cause": result.cause},
    )
    return result


def _refuse_if_short_of_votes(stage_rules: Rules, evidence: StageEvidence) -> None:
    """Before any version is written: every model needs the criteria's counted arena votes while
    the user part weighs (for a re-evaluation too: its consumer dead-letters with this code)."""
    short = short_of_votes(stage_rules, evidence.teams)
    if short:
        raise ArenaVotesInsufficient(
            f"{len(short)} model(s) have fewer than {stage_rules.arena_min_votes} counted arena votes; "
            "collect more votes, or revise the criteria before the evaluation starts",
            min_votes=stage_rules.arena_min_votes,
            models=[{"team_id": str(t.team_id), "votes": t.user_votes} for t in short],
        )


def _result_row(ctx: ScoringCtx, stage_id: uuid.UUID, proposal: Proposal, version: int) -> StageResult:
    return StageResult(
        id=uuid.uuid4(),
        stage_id=stage_id,
        version=version,
        status=ResultStatus.PROPOSED,
        advancing_planned=proposal.advancing_planned,
        advancing=proposal.advancing,
        vacancies=proposal.vacancies,
        blocking=list(proposal.blocking),
        proposed_by=ctx.actor.subject,
        proposed_at=ctx.clock.now(),
    )


def _team_row(result_id: uuid.UUID, decision: TeamDecision, inputs: TeamInputs) -> TeamResult:
    return TeamResult(
        result_id=result_id,
        team_id=decision.team_id,
        outcome=decision.outcome,
        reason=decision.reason,
        rank=decision.rank,
        composite=decision.composite,
        benchmark=decision.parts[Part.BENCHMARK],
        expert=decision.parts[Part.EXPERT],
        user=decision.parts[Part.USER],
        detail=TeamDetail(
            gates=decision.gates,
            benchmark_accuracy=decision.benchmark_accuracy,
            failed_suites=list(decision.failed_suites),
            pending=list(decision.pending),
            inputs=inputs,
        ).model_dump(mode="json"),
    )


async def get_version(session: AsyncSession, stage_id: uuid.UUID, version: int) -> StageResult:
    result = await repository.by_version(session, stage_id, version)
    if result is None:
        raise ResultNotFound(f"stage {stage_id} has no result version {version}")
    return result


async def published(session: AsyncSession, stage_id: uuid.UUID) -> StageResult:
    result = await repository.current_approved(session, stage_id)
    if result is None:
        raise ResultNotPublished(f"no result of stage {stage_id} has been published")
    return result


async def approve(ctx: ScoringCtx, stage_id: uuid.UUID, version: int) -> StageResult:
    """Approve a proposed version and publish it (outcomes to services, detail internally, the
    announcement to partners). Refused while it has open questions or a newer version exists, and
    for a final stage. Locks the stage first: of two approvals at once, one wins and the other is
    ``result-not-proposed``. Completes a finalisation that awaited this version."""
    evaluation = await finality.lock_stage(ctx.session, stage_id)
    result = await get_version(ctx.session, stage_id, version)
    assert evaluation is not None  # a result exists only for a started evaluation
    await finality.refuse_if_final(ctx.session, stage_id)
    if result.status != ResultStatus.PROPOSED:
        raise ResultNotProposed(f"version {version} is {result.status}", result_status=result.status)
    if version != await repository.last_version(ctx.session, stage_id):
        raise ResultSuperseded(f"version {version} is not the latest version of stage {stage_id}")
    if result.blocking:
        raise ResultBlocked(f"version {version} cannot be approved yet", blocking=list(result.blocking))
    previous = await repository.current_approved(ctx.session, stage_id)
    if previous is not None:
        previous.status = ResultStatus.SUPERSEDED
    result.status = ResultStatus.APPROVED
    result.approved_by = ctx.actor.subject
    result.approved_at = ctx.clock.now()
    if previous is not None:
        result.corrects_version = previous.version
        result.correction = _CORRECTION.get(result.cause, "revision")
    await ctx.session.flush()
    await close_evidence(ctx, result)
    await publication.publish(ctx, result, previous)
    await audit.record(
        ctx,
        action="result.approved",
        entity_type="stage-result",
        entity_id=result.id,
        details={
            "stage_id": str(stage_id),
            "version": version,
            "replaces": previous.version if previous else None,
            "correction": result.correction,
        },
    )
    await finality.complete_pending(ctx, evaluation, result, previous)
    return result
