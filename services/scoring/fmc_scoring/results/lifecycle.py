"""After publication: re-evaluation on an accepted objection, finalisation when the windows close.

A re-evaluation starts from the version in force's evidence snapshot and takes afresh only what the
accepted objection concerns (``results.correction``), as a new result version that records every
change and why; earlier versions are kept. The objection was accepted by an
operator, so a version without open questions is approved at once; one with open questions waits
for an operator. Finalisation takes the version in force and announces ``StageFinalized`` (or, while
a corrected version awaits approval, is pending until that approval). A final stage refuses new
versions until an operator reopens it (``results/finality.py``).
"""

from __future__ import annotations

import uuid

from fmc_common.events.grievance import (
    DecisionKind,
    GrievanceWindowClosed,
    ReEvaluationRequested,
)
from fmc_common.events.results import StageReopenedAnnounced
from fmc_common.events.scoring import StageReopened
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.results import finality, publication, repository
from fmc_scoring.results.correction import corrected_evidence
from fmc_scoring.results.models import Cause, ResultStatus, StageReopening, StageResult
from fmc_scoring.results.originality_gate import OriginalityVerdicts
from fmc_scoring.results.service import approve, propose_result, published


async def re_evaluate(
    ctx: ScoringCtx,
    event: ReEvaluationRequested,
    verdicts: OriginalityVerdicts,
    arena_rounds: int,
    grading_rounds: int,
) -> StageResult | None:
    """A new result version for an accepted objection (None: not about a stage result)."""
    if event.decision_kind != DecisionKind.STAGE_RESULT:
        return None
    base = await repository.current_approved(ctx.session, event.stage_id)
    evidence = await corrected_evidence(ctx, event, base, verdicts, arena_rounds, grading_rounds)
    result = await propose_result(
        ctx,
        event.stage_id,
        verdicts,
        arena_rounds,
        cause=Cause.RE_EVALUATION,
        cause_id=event.request_id,
        reason=event.reason,
        evidence=evidence,
    )
    if not result.blocking:
        result = await approve(ctx, event.stage_id, result.version)
    return result


async def refuse_re_evaluation_of_final_stage(ctx: ScoringCtx, event: ReEvaluationRequested) -> bool:
    """A re-evaluation requested for a final stage is refused: recorded in the audit trail (with the
    request, the objection and the team) and not retried; True when refused. An operator who must
    still correct the result reopens the stage (every team gets a fresh window)."""
    if event.decision_kind != DecisionKind.STAGE_RESULT:
        return False
    if await finality.lock_stage(ctx.session, event.stage_id) is None:
        return False
    if not await finality.is_final(ctx.session, event.stage_id):
        return False
    await audit.record(
        ctx,
        action="result.re-evaluation-refused",
        entity_type="re-evaluation-request",
        entity_id=event.request_id,
        reason=event.reason,
        details={
            "stage_id": str(event.stage_id),
            "objection_id": str(event.objection_id),
            "team_id": str(event.team_id),
            "concerns": [str(c) for c in event.concerns],
            "refusal": finality.StageFinal.code,
        },
    )
    return True


async def finalize(ctx: ScoringCtx, event: GrievanceWindowClosed) -> StageResult | None:
    """``StageFinalized`` with the version in force (None: not about a stage result).

    While a corrected version (re-evaluation or reopening) awaits approval, the finalisation is
    recorded as pending and its approval completes it. Again after a reopening, it finalises the
    stage anew; a closing from before the latest reopening is stale (audited, ignored), and one for
    a stage already final changes nothing."""
    if event.decision_kind != DecisionKind.STAGE_RESULT:
        return None
    evaluation = await finality.lock_stage(ctx.session, event.stage_id)
    result = await published(ctx.session, event.stage_id)
    assert evaluation is not None  # a result exists only for a started evaluation
    state = await finality.state(ctx.session, event.stage_id)
    if state is not None and state.final:
        return result
    if state is not None and state.reopened_at is not None and event.closed_at < state.reopened_at:
        await audit.record(
            ctx,
            action="result.stale-closing-ignored",
            entity_type="stage-result",
            entity_id=result.id,
            details={"stage_id": str(event.stage_id), "closed_at": event.closed_at.isoformat()},
        )
        return result
    latest = await repository.by_version(
        ctx.session, event.stage_id, await repository.last_version(ctx.session, event.stage_id)
    )
    if (
        latest is not None
        and latest.status == ResultStatus.PROPOSED
        and latest.version > result.version
        and latest.cause != Cause.INITIAL
    ):
        await finality.mark_pending(ctx, event.stage_id, latest)
        return result
    await finality.finalize_now(ctx, evaluation, result, requested_at=event.closed_at)
    return result


async def reopen(ctx: ScoringCtx, stage_id: uuid.UUID, reason: str) -> StageReopening:
    """An operator reopens a final stage for a correction, with a reason (refused unless final:
    ``stage-not-final``). ``StageReopened`` gives every team a fresh objection window; partners
    learn that the stage is reopened (``StageReopenedAnnounced``, without the reason)."""
    evaluation = await finality.lock_stage(ctx.session, stage_id)
    state = await finality.state(ctx.session, stage_id)
    if evaluation is None or state is None or not state.final:
        raise finality.StageNotFinal(f"stage {stage_id} is not final: there is nothing to reopen")
    result = await published(ctx.session, stage_id)
    now = ctx.clock.now()
    reopening = StageReopening(
        id=uuid.uuid4(),
        stage_id=stage_id,
        version=result.version,
        reason=reason,
        reopened_by=ctx.actor.subject,
        reopened_at=now,
    )
    ctx.session.add(reopening)
    state.final, state.reopened_at, state.reopening_id, state.pending_since = False, now, reopening.id, None
    await ctx.session.flush()
    rows = await repository.team_rows(ctx.session, result.id)
    await ctx.outbox.add(
        ctx.session,
        StageReopened(
            reopening_id=reopening.id,
            stage_id=stage_id,
            programme_id=evaluation.programme_id,
            version=result.version,
            reason=reason,
            reopened_by=reopening.reopened_by,
            reopened_at=now,
            objection_days=evaluation.objection_days,
            teams=publication.team_outcomes(rows),
        ),
    )
    await ctx.outbox.add(
        ctx.session, StageReopenedAnnounced(stage_id=stage_id, version=result.version, announced_at=now)
    )
    await audit.record(
        ctx,
        action="result.reopened",
        entity_type="stage-result",
        entity_id=result.id,
        reason=reason,
        details={"stage_id": str(stage_id), "version": result.version, "reopening_id": str(reopening.id)},
    )
    return reopening
