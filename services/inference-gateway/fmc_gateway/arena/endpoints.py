"""REST: /v1/arena/battles (two anonymised answers for the real-user evaluation run by scoring),
whole or streamed."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText
from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_common.web.streaming import ClosingStreamingResponse, ndjson_lines, ndjson_responses
from fmc_gateway.arena import service
from fmc_gateway.arena.deps import ArenaModelsDep
from fmc_gateway.arena.models import ArenaBattle
from fmc_gateway.arena.schemas import Answers, BattleCreate, BattleOut, BattleRevealed
from fmc_gateway.deps import CurrentActor, RuntimeDep, SessionDep, SettingsDep

router = APIRouter(prefix="/v1/arena", tags=["arena"])


@router.post(
    "/battles",
    status_code=status.HTTP_201_CREATED,
    response_model=BattleOut,
    responses=problem_responses(401, 403, 422, 429, 503),
    summary="Start a battle",
)
async def start_battle(
    body: BattleCreate,
    actor: CurrentActor,
    runtime: RuntimeDep,
    settings: SettingsDep,
    models: ArenaModelsDep,
) -> BattleOut:
    """Two of the contenders, picked at random, answer the voter's prompt; the answers come back as
    `a` and `b` with no model identity (services: scoring, on behalf of a voter). A voter may start
    a limited number of battles per window (429 `voter-rate-limited` with `retry_after_seconds`)."""
    actor.require(Role.SERVICE)
    battle = await service.start_battle(
        runtime.sessions,
        runtime.clock,
        models,
        body,
        limit=settings.arena_voter_limit,
        window=settings.arena_window_seconds,
        timeout=settings.arena_timeout_seconds,
    )
    return BattleOut(
        battle_id=battle.id, prompt=battle.prompt, answers=Answers(a=battle.a_text, b=battle.b_text)
    )


@router.post(
    "/battles/stream",
    status_code=status.HTTP_200_OK,
    response_class=ClosingStreamingResponse,
    responses=problem_responses(401, 403, 422, 429, 503)
    | ndjson_responses(
        "the battle's events, one JSON object per line (docs/gateway.md, Streamed battles)",
        BattleText,
        BattleDone,
        BattleFailed,
    ),
    summary="Start a battle, streamed",
)
async def stream_battle(
    body: BattleCreate,
    actor: CurrentActor,
    runtime: RuntimeDep,
    settings: SettingsDep,
    models: ArenaModelsDep,
) -> ClosingStreamingResponse:
    """The same battle as `POST /v1/arena/battles`, its two answers streamed as NDJSON while the
    models produce them: `{"type": "text", "side": "a"|"b", "text": ...}` pieces, interleaved, then
    `{"type": "done", "battle_id": ...}` once both are complete and the battle is stored, or
    `{"type": "error", ...}` (nothing stored) when one side failed. Every refusal (the voter's
    limit, a model not ready) comes before the stream, as problem+json. A caller that goes away
    mid-stream stops both answers and leaves no battle (services: scoring, on behalf of a voter)."""
    actor.require(Role.SERVICE)
    battle = await service.open_battle(
        runtime.sessions,
        runtime.clock,
        models,
        body,
        limit=settings.arena_voter_limit,
        window=settings.arena_window_seconds,
    )
    stream = service.BattleStream(runtime.sessions, battle, settings.arena_timeout_seconds)
    return ClosingStreamingResponse(ndjson_lines(stream.events()), on_close=stream.close)


@router.get(
    "/battles/{battle_id}",
    response_model=BattleRevealed,
    responses=problem_responses(401, 403, 404),
    summary="Reveal a battle",
)
async def reveal_battle(battle_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> BattleRevealed:
    """Which submission answered as A and as B (services and operators, after the vote)."""
    actor.require(Role.SERVICE, Role.OPERATOR)
    battle: ArenaBattle = await service.get_battle(session, battle_id)
    return BattleRevealed(
        battle_id=battle.id,
        stage_id=battle.stage_id,
        voter_id=battle.voter_id,
        prompt=battle.prompt,
        answers=Answers(a=battle.a_text, b=battle.b_text),
        a_submission_id=battle.a_submission_id,
        b_submission_id=battle.b_submission_id,
        created_at=battle.created_at,
    )
