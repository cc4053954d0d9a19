"""Programmes and stages: creation, reading, and one step of the stage lifecycle (draft -> ... -> final).

The steps that also move teams or submissions (opening, starting the evaluation) are composed above
this package, in ``fmc_registry.stages``: teams and submissions depend on programmes, not back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from fmc_common import db
from fmc_common.events.registry import StageStatusChanged
from fmc_registry.audit import service as audit
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import STAGE_LIFECYCLE, StageStatus
from fmc_registry.programmes import repository
from fmc_registry.programmes.errors import (
    ProgrammeNameTaken,
    ProgrammeNotFound,
    StageNotFound,
    StageNumberTaken,
)
from fmc_registry.programmes.models import Programme, Stage


async def create_programme(ctx: RegistryCtx, *, name: str, budget_won: int) -> Programme:
    if await repository.get_by_name(ctx.session, name) is not None:
        raise ProgrammeNameTaken(f"a programme named {name!r} exists")
    programme = Programme(id=uuid.uuid4(), name=name, budget_won=budget_won, created_at=ctx.clock.now())
    ctx.session.add(programme)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:
        if not db.is_unique_violation(exc):
            raise
        raise ProgrammeNameTaken(f"a programme named {name!r} exists") from exc
    await audit.record(
        ctx,
        action="programme.created",
        entity_type="programme",
        entity_id=programme.id,
        details={"name": name, "budget_won": budget_won},
    )
    return programme


async def get_programme(ctx: RegistryCtx, programme_id: uuid.UUID) -> Programme:
    programme = await repository.get(ctx.session, programme_id)
    if programme is None:
        raise ProgrammeNotFound(f"no programme with id {programme_id}")
    return programme


async def get_stage(ctx: RegistryCtx, stage_id: uuid.UUID, *, lock: bool = False) -> Stage:
    stage = await repository.get_stage(ctx.session, stage_id, lock=lock)
    if stage is None:
        raise StageNotFound(f"no stage with id {stage_id}")
    return stage


async def stages_of(ctx: RegistryCtx, programme_id: uuid.UUID) -> list[Stage]:
    """The programme's stages in order (ProgrammeNotFound if there is no such programme)."""
    await get_programme(ctx, programme_id)
    return await repository.stages_of(ctx.session, programme_id)


async def add_stage(
    ctx: RegistryCtx,
    programme_id: uuid.UUID,
    *,
    number: int,
    name: str,
    planned_advancing: int,
    evaluation_starts_at: datetime,
    evaluation_ends_at: datetime,
    notification_at: datetime,
    objection_days: int,
) -> Stage:
    await get_programme(ctx, programme_id)
    if await repository.stage_by_number(ctx.session, programme_id, number) is not None:
        raise StageNumberTaken(f"stage {number} exists in this programme")
    stage = Stage(
        id=uuid.uuid4(),
        programme_id=programme_id,
        number=number,
        name=name,
        planned_advancing=planned_advancing,
        evaluation_starts_at=evaluation_starts_at,
        evaluation_ends_at=evaluation_ends_at,
        notification_at=notification_at,
        objection_days=objection_days,
        status=StageStatus.DRAFT,
        status_changed_at=ctx.clock.now(),
    )
    ctx.session.add(stage)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:  # a concurrent request added the same number first
        raise StageNumberTaken(f"stage {number} exists in this programme") from exc
    await audit.record(
        ctx,
        action="stage.created",
        entity_type="stage",
        entity_id=stage.id,
        details={"programme_id": str(programme_id), "number": number, "planned_advancing": planned_advancing},
    )
    return stage


async def transition_stage(
    ctx: RegistryCtx,
    stage: Stage,
    target: StageStatus,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Stage:
    """One legal step of the stage lifecycle, audited (with ``details`` added) and announced."""
    current = stage.status
    STAGE_LIFECYCLE.check(current, target)
    now = ctx.clock.now()
    stage.status = target
    stage.status_changed_at = now
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="stage.status-changed",
        entity_type="stage",
        entity_id=stage.id,
        reason=reason,
        details={"from": current, "to": target, **(details or {})},
    )
    await ctx.outbox.add(
        ctx.session,
        StageStatusChanged(
            stage_id=stage.id,
            programme_id=stage.programme_id,
            from_status=current,
            to_status=target,
            changed_at=now,
        ),
    )
    return stage
