"""After publication: re-evaluation on an accepted objection, finalisation when the windows close.

A re-evaluation starts from the version in force's evidence snapshot and takes afresh only what the
accepted objection concerns (``results.correction``), as a new result version that records every
change and why; earlier versions are kept. The objection was accepted by an
operator, so a version without open questions is approved at once; one with open questions waits
for an operator. Finalisation takes the version in force and announces ``StageFinalized``.
"""

from __future__ import annotations

from fmc_common.errors import Conflict
from fmc_common.events.grievance import (
    DecisionKind,
    GrievanceWindowClosed,
    ReEvaluationRequested,
)
from fmc_common.events.scoring import Elimination, StageFinalized
from fmc_common.events.vocabulary import Outcome, Reason
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.results import repository
from fmc_scoring.results.correction import corrected_evidence
from fmc_scoring.results.models import Cause, ResultStatus, StageResult
from fmc_scoring.results.originality_gate import OriginalityVerdicts
from fmc_scoring.results.service import approve, propose_result, published


class ReEvaluationAwaitingApproval(Conflict):
    code = "re-evaluation-awaiting-approval"
    title = "A re-evaluated result version awaits an operator's approval"


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


async def finalize(ctx: ScoringCtx, event: GrievanceWindowClosed) -> StageResult | None:
    """``StageFinalized`` with the version in force (None: not about a stage result)."""
    if event.decision_kind != DecisionKind.STAGE_RESULT:
        return None
    latest = await repository.by_version(
        ctx.session, event.stage_id, await repository.last_version(ctx.session, event.stage_id)
    )
    if latest is not None and latest.status == ResultStatus.PROPOSED and latest.cause == Cause.RE_EVALUATION:
        raise ReEvaluationAwaitingApproval(
            f"version {latest.version} of stage {event.stage_id} must be approved before the stage is final"
        )
    result = await published(ctx.session, event.stage_id)
    if result.finalized_at is not None:
        return result
    evaluation = await planning_repository.evaluation(ctx.session, event.stage_id)
    assert evaluation is not None
    result.finalized_at = ctx.clock.now()
    rows = await repository.team_rows(ctx.session, result.id)
    await ctx.outbox.add(
        ctx.session,
        StageFinalized(
            stage_id=event.stage_id,
            programme_id=evaluation.programme_id,
            advancing_team_ids=[r.team_id for r in rows if r.outcome == Outcome.ADVANCE],
            eliminated=[
                Elimination(team_id=r.team_id, reason_code=r.reason or Reason.RANK)
                for r in rows
                if r.outcome == Outcome.ELIMINATE
            ],
            planned_advancing=result.advancing_planned,
            finalized_at=result.finalized_at,
        ),
    )
    await audit.record(
        ctx,
        action="result.finalized",
        entity_type="stage-result",
        entity_id=result.id,
        details={"stage_id": str(event.stage_id), "version": result.version},
    )
    return result
