"""A stage's lifecycle where it moves more than the stage: opening brings the teams in, starting the
evaluation freezes the submissions.

Programmes own the stage's row and a single step of its lifecycle; teams and submissions depend on
programmes. The steps that touch all three are composed here, above them, so none imports back.
"""

from __future__ import annotations

import uuid

from fmc_common.events.registry import StageOpened
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import StageStatus
from fmc_registry.programmes import service as programmes
from fmc_registry.programmes.errors import ReopeningIsScorings
from fmc_registry.programmes.models import Stage
from fmc_registry.submissions import service as submissions
from fmc_registry.teams import service as teams


async def change_status(
    ctx: RegistryCtx, stage_id: uuid.UUID, target: StageStatus, reason: str | None = None
) -> Stage:
    """Move the stage one step; opening and evaluating carry their effects on teams and submissions."""
    # Locked: a status change and a late submission of the same stage are serialised (PostgreSQL).
    stage = await programmes.get_stage(ctx, stage_id, lock=True)
    if target == StageStatus.REOPENED:
        # The reopening carries a reason and fresh objection windows: scoring's, announced to all.
        raise ReopeningIsScorings(
            "a final stage is reopened by an operator through scoring "
            "(POST /v1/stages/{id}/results/reopen on scoring); the registry follows its StageReopened"
        )
    if target == StageStatus.OPEN:
        await open_stage(ctx, stage, reason)
    elif target == StageStatus.EVALUATING:
        await submissions.freeze(ctx, stage, reason)
    else:
        await programmes.transition_stage(ctx, stage, target, reason)
    return stage


async def open_stage(ctx: RegistryCtx, stage: Stage, reason: str | None = None) -> Stage:
    """Open for submissions; the selected teams and those advanced from the previous stage join it."""
    await programmes.transition_stage(ctx, stage, StageStatus.OPEN, reason)
    joining = await teams.join_stage(ctx, stage.programme_id, stage.number)
    await ctx.outbox.add(
        ctx.session,
        StageOpened(
            stage_id=stage.id,
            programme_id=stage.programme_id,
            number=stage.number,
            planned_advancing=stage.planned_advancing,
            team_ids=[t.id for t in joining],
            opened_at=ctx.clock.now(),
        ),
    )
    return stage
