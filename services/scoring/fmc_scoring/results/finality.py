"""Whether a stage is final, and the changes of that state: finalising (at once or pending the
approval of a corrected version) and reopening.

"Final means final": once a stage is final (finalised, and not reopened since), no result version
is proposed or approved for it (``409 stage-final``) until an operator reopens it with a reason.

Every change of a stage's result (propose, approve, reopen, finalise) first locks the stage's
evaluation row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway): two of them on
one stage never interleave, the second waits and then sees what the first did.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict
from fmc_common.events.results import StageFinalAnnounced
from fmc_common.events.scoring import Elimination, StageFinalized
from fmc_common.events.vocabulary import Outcome, Reason
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.planning.models import Evaluation
from fmc_scoring.results import repository
from fmc_scoring.results.models import StageFinality, StageFinalization, StageResult


class StageFinal(Conflict):
    code = "stage-final"
    title = "The stage is final: a correction needs an operator to reopen it first"


class StageNotFinal(Conflict):
    code = "stage-not-final"
    title = "Only a final stage can be reopened"


async def lock_stage(session: AsyncSession, stage_id: uuid.UUID) -> Evaluation | None:
    """Lock the stage for a change of its result (None: its evaluation has not started)."""
    return await planning_repository.evaluation(session, stage_id, lock=True)


async def state(session: AsyncSession, stage_id: uuid.UUID) -> StageFinality | None:
    return await session.get(StageFinality, stage_id)


async def is_final(session: AsyncSession, stage_id: uuid.UUID) -> bool:
    found = await state(session, stage_id)
    return found is not None and found.final


async def refuse_if_final(session: AsyncSession, stage_id: uuid.UUID) -> None:
    found = await state(session, stage_id)
    if found is not None and found.final:
        raise StageFinal(
            f"stage {stage_id} is final (version {found.version}); an operator must reopen it "
            f"(POST /v1/stages/{stage_id}/results/reopen) before a new version",
            version=found.version,
        )


async def _state_for_update(session: AsyncSession, stage_id: uuid.UUID) -> StageFinality:
    """The stage's state, created (not final) on first use; the caller holds the stage's lock."""
    found = await state(session, stage_id)
    if found is None:
        found = StageFinality(stage_id=stage_id, final=False)
        session.add(found)
    return found


async def mark_pending(ctx: ScoringCtx, stage_id: uuid.UUID, awaiting: StageResult) -> None:
    """The windows closed while ``awaiting`` (a corrected version) awaits approval: its approval
    finalises the stage."""
    found = await _state_for_update(ctx.session, stage_id)
    if found.pending_since is None:
        found.pending_since = ctx.clock.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="result.finalization-pending",
        entity_type="stage-result",
        entity_id=awaiting.id,
        details={"stage_id": str(stage_id), "awaiting_version": awaiting.version},
    )


async def finalize_now(
    ctx: ScoringCtx, evaluation: Evaluation, result: StageResult, requested_at: datetime | None = None
) -> None:
    """Make ``result`` (the version in force) final: ``StageFinalized`` for the services, and
    ``StageFinalAnnounced`` for partners. ``finalized_at`` is recorded anew after a reopening."""
    now = ctx.clock.now()
    found = await _state_for_update(ctx.session, result.stage_id)
    result.finalized_at = now
    ctx.session.add(
        StageFinalization(
            id=uuid.uuid4(),
            stage_id=result.stage_id,
            version=result.version,
            requested_at=found.pending_since or requested_at or now,
            finalized_at=now,
            reopening_id=found.reopening_id,
        )
    )
    found.final, found.version, found.finalized_at, found.pending_since = True, result.version, now, None
    await ctx.session.flush()
    rows = await repository.team_rows(ctx.session, result.id)
    await ctx.outbox.add(
        ctx.session,
        StageFinalized(
            stage_id=result.stage_id,
            programme_id=evaluation.programme_id,
            advancing_team_ids=[r.team_id for r in rows if r.outcome == Outcome.ADVANCE],
            eliminated=[
                Elimination(team_id=r.team_id, reason_code=r.reason or Reason.RANK)
                for r in rows
                if r.outcome == Outcome.ELIMINATE
            ],
            planned_advancing=result.advancing_planned,
            finalized_at=now,
        ),
    )
    await ctx.outbox.add(
        ctx.session, StageFinalAnnounced(stage_id=result.stage_id, version=result.version, announced_at=now)
    )
    await audit.record(
        ctx,
        action="result.finalized",
        entity_type="stage-result",
        entity_id=result.id,
        details={
            "stage_id": str(result.stage_id),
            "version": result.version,
            "reopening_id": str(found.reopening_id) if found.reopening_id else None,
        },
    )


async def complete_pending(
    ctx: ScoringCtx, evaluation: Evaluation, result: StageResult, previous: StageResult | None
) -> bool:
    """Called by the approval of ``result``: finalise now if a finalisation awaited it.

    Unless the approved version changes a team's outcome or reason: grievance then notifies that
    team and opens a fresh window (a new round), and the stage is final only when that round's
    ``GrievanceWindowClosed`` arrives. The pending mark is cleared and the wait audited.
    """
    found = await state(ctx.session, result.stage_id)
    if found is None or found.pending_since is None:
        return False
    reversed_teams = await _reversed_teams(ctx.session, result, previous)
    if reversed_teams:
        found.pending_since = None
        await ctx.session.flush()
        await audit.record(
            ctx,
            action="result.finalization-awaits-new-windows",
            entity_type="stage-result",
            entity_id=result.id,
            details={
                "stage_id": str(result.stage_id),
                "version": result.version,
                "reversed_team_ids": [str(t) for t in reversed_teams],
            },
        )
        return False
    await finalize_now(ctx, evaluation, result)
    return True


async def _reversed_teams(
    session: AsyncSession, result: StageResult, previous: StageResult | None
) -> list[uuid.UUID]:
    """Teams whose outcome or reason differs between ``previous`` (the version replaced) and ``result``."""
    if previous is None:
        return []
    before = {r.team_id: (r.outcome, r.reason) for r in await repository.team_rows(session, previous.id)}
    after = {r.team_id: (r.outcome, r.reason) for r in await repository.team_rows(session, result.id)}
    return sorted(team for team, decided in after.items() if before.get(team) != decided)
