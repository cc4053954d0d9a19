"""The arena's anonymous public mode, switched per stage by operators (REST and logic, audited).

Off by default: a stage's arena takes registered field users only (an evaluator token). On, the web
tier may bring people who have not signed in (``POST .../arena/anonymous/...``), each named by a
pseudonym of its session and held to the anonymous daily cap; their votes are kept and counted apart
(docs/decisions/2026-12-06-anonymous-arena.md). The web tier reads the switch with its service
token (and keeps it a few seconds), so no event announces it.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_scoring.arena import repository
from fmc_scoring.arena.models import ArenaSetting
from fmc_scoring.arena.schemas import ArenaSettingsIn, ArenaSettingsOut
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ActorCtx, OperatorCtx, ScoringCtx

router = APIRouter(tags=["arena"])


async def set_public(ctx: ScoringCtx, stage_id: uuid.UUID, public: bool, reason: str) -> ArenaSetting:
    """Switch the stage's public mode (audited with the reason, also when unchanged: the operator
    confirmed it). Battles already started keep their voter; an anonymous vote needs the mode on."""
    row = await repository.arena_setting(ctx.session, stage_id)
    before = row.public if row else False
    if row is None:
        row = ArenaSetting(stage_id=stage_id, public=public, updated_by="", updated_at=ctx.clock.now())
        ctx.session.add(row)
    row.public = public
    row.updated_by = ctx.actor.subject
    row.updated_at = ctx.clock.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="arena.public-mode-set",
        entity_type="stage",
        entity_id=stage_id,
        reason=reason,
        details={"public": public, "was_public": before},
    )
    return row


def _out(stage_id: uuid.UUID, row: ArenaSetting | None) -> ArenaSettingsOut:
    if row is None:
        return ArenaSettingsOut(stage_id=stage_id, public=False)
    return ArenaSettingsOut(
        stage_id=row.stage_id, public=row.public, updated_by=row.updated_by, updated_at=row.updated_at
    )


@router.put(
    "/v1/stages/{stage_id}/arena/settings",
    response_model=ArenaSettingsOut,
    responses=problem_responses(401, 403, 422),
    summary="Switch the arena's public mode",
)
async def put_settings(stage_id: uuid.UUID, body: ArenaSettingsIn, ctx: OperatorCtx) -> ArenaSettingsOut:
    """Open the stage's arena to anonymous voters through the web tier (`public: true`), or take it
    back to registered voters only (operators; audited as `arena.public-mode-set` with the reason).
    Anonymous votes are kept and counted apart from the registered voters' (never in the stage's
    evidence)."""
    return _out(stage_id, await set_public(ctx, stage_id, body.public, body.reason))


@router.get(
    "/v1/stages/{stage_id}/arena/settings",
    response_model=ArenaSettingsOut,
    responses=problem_responses(401, 403),
    summary="The arena's public mode",
)
async def get_settings(stage_id: uuid.UUID, ctx: ActorCtx) -> ArenaSettingsOut:
    """The stage's arena switches (operators and services): `public` false until switched on."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return _out(stage_id, await repository.arena_setting(ctx.session, stage_id))


@router.get(
    "/v1/arena/settings",
    response_model=list[ArenaSettingsOut],
    responses=problem_responses(401, 403),
    summary="Every stage's arena switches",
)
async def list_settings(ctx: ActorCtx) -> list[ArenaSettingsOut]:
    """The stages whose switches an operator ever set (operators and services; the web tier reads
    it for the arena's list of stages); a stage not listed is not public."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return [_out(row.stage_id, row) for row in await repository.arena_settings(ctx.session)]
