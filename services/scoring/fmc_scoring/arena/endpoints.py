"""REST: arena battles (whole or streamed) and votes (voters hold an evaluator token; anonymous voters
of a stage in public mode come through the web tier's service token), standings for operators."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText
from fmc_common.auth import Actor, Role
from fmc_common.errors import Forbidden
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.deps import RuntimeDep, component
from fmc_common.web.problems import problem_responses
from fmc_common.web.streaming import ClosingStreamingResponse, ndjson_lines, ndjson_responses
from fmc_scoring.arena import service
from fmc_scoring.arena.gateway import ArenaGateway
from fmc_scoring.arena.models import Battle, Vote
from fmc_scoring.arena.schemas import (
    AnonymousBattleIn,
    AnonymousVoteIn,
    AnswersOut,
    BattleIn,
    BattleOut,
    ExclusionIn,
    ExclusionOut,
    RevealedOut,
    StandingOut,
    StandingsOut,
    VoteIn,
    VoteOut,
    VoteRecordOut,
)
from fmc_scoring.arena.service import Voter
from fmc_scoring.arena.streaming import BattleRelay
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ActorCtx, OperatorCtx, ScoringCtx

router = APIRouter(tags=["arena"])


# Built by the composition root (``runtime.provide``); declared here, beside its only user.
ArenaGatewayDep = Annotated[ArenaGateway, Depends(component(ArenaGateway))]


@router.post(
    "/v1/stages/{stage_id}/arena/battles",
    status_code=status.HTTP_201_CREATED,
    response_model=BattleOut,
    responses=problem_responses(401, 403, 409, 422, 429, 503),
    summary="Start a battle",
)
async def start_battle(
    stage_id: uuid.UUID, body: BattleIn, gateway: ArenaGatewayDep, ctx: ActorCtx
) -> BattleOut:
    """Two of the stage's models, anonymised, answer the voter's prompt (through the gateway's arena).
    Voters hold an evaluator token; a voter who reached today's counted votes (Asia/Seoul) is
    refused with `daily-vote-cap` (429)."""
    battle = await service.start_battle(ctx, gateway, stage_id, body.prompt, _registered(ctx))
    return _battle_out(battle)


@router.post(
    "/v1/stages/{stage_id}/arena/battles/stream",
    status_code=status.HTTP_200_OK,
    response_class=ClosingStreamingResponse,
    responses=problem_responses(401, 403, 409, 422, 429, 503)
    | ndjson_responses(
        "the battle's events, one JSON object per line (docs/scoring.md, Arena)",
        BattleText,
        BattleDone,
        BattleFailed,
    ),
    summary="Start a battle, streamed",
)
async def stream_battle(
    stage_id: uuid.UUID, body: BattleIn, gateway: ArenaGatewayDep, ctx: ActorCtx, runtime: RuntimeDep
) -> ClosingStreamingResponse:
    """The same battle as `POST /v1/stages/{stage_id}/arena/battles`, its two answers streamed
    while the models produce them (NDJSON): `{"type": "text", "side": "a"|"b", "text": ...}`
    pieces of both answers interleaved, then `{"type": "done", "battle_id": ...}` once the battle
    is stored (vote on it as on any battle), or `{"type": "error", ...}` (nothing stored). Every
    refusal (`arena-not-open`, `daily-vote-cap`, the gateway's limit as `arena-busy`, a model not
    ready as `arena-unavailable`) comes before the stream, as problem+json. Voters hold an
    evaluator token; no event names a model or a team."""
    return await _streamed(ctx, gateway, runtime, stage_id, body.prompt, _registered(ctx))


@router.post(
    "/v1/arena/battles/{battle_id}/vote",
    status_code=status.HTTP_201_CREATED,
    response_model=VoteOut,
    responses=problem_responses(401, 403, 404, 409, 410, 422, 429),
    summary="Vote on a battle",
)
async def vote(battle_id: uuid.UUID, body: VoteIn, ctx: ActorCtx) -> VoteOut:
    """The voter's one vote: A, B, tie, or both bad, within the arena's expiry of the battle's start
    (later: `battle-expired`, 410). The answers' authors are revealed in the reply. A vote on a
    battle whose prompt names either contender, or in which an answer names its own team, maker or
    model, is kept but not counted, and says which rule discarded it and what kind of name it
    matched. A voter who reached today's counted votes is refused with `daily-vote-cap` (429)."""
    return await _voted(ctx, battle_id, body, _registered(ctx))


def _registered(ctx: ScoringCtx) -> Voter:
    ctx.actor.require(Role.EVALUATOR)
    return Voter.registered(ctx.actor.subject, ctx.settings.arena_daily_votes)


def _anonymous(ctx: ScoringCtx, pseudonym: str) -> Voter:
    """Only the web tier (``arena_public_callers``) speaks for anonymous voters: it identifies them
    by its session cookie and limits them per client address before calling."""
    _public_caller(ctx.actor, ctx.settings.arena_public_callers)
    return Voter.public(pseudonym, ctx.settings.arena_anonymous_daily_votes)


def _public_caller(actor: Actor, callers: list[str]) -> None:
    actor.require(Role.SERVICE)
    if actor.subject not in callers:
        raise Forbidden(f"{actor.subject} may not speak for anonymous voters")


def _battle_out(battle: Battle) -> BattleOut:
    return BattleOut(
        battle_id=battle.id, prompt=battle.prompt, answers=AnswersOut(a=battle.a_text, b=battle.b_text)
    )


async def _streamed(
    ctx: ScoringCtx,
    gateway: ArenaGateway,
    runtime: ServiceRuntime,
    stage_id: uuid.UUID,
    prompt: str,
    voter: Voter,
) -> ClosingStreamingResponse:
    request = await service.battle_request(ctx, stage_id, prompt, voter)
    stream = await gateway.stream_battle(
        stage_id, service.pseudonym(request.voter), prompt, request.contenders, request.decoding
    )
    relay = BattleRelay(gateway, stream, request, runtime.sessions, ctx.clock)
    return ClosingStreamingResponse(ndjson_lines(relay.events()), on_close=relay.close)


async def _voted(ctx: ScoringCtx, battle_id: uuid.UUID, body: VoteIn, voter: Voter) -> VoteOut:
    expiry = timedelta(seconds=ctx.settings.arena_battle_expiry_seconds)
    battle, recorded = await service.vote(ctx, battle_id, body.choice, voter, expiry)
    return await _vote_out(ctx, battle, recorded)


async def _vote_out(ctx: ScoringCtx, battle: Battle, recorded: Vote) -> VoteOut:
    return VoteOut(
        battle_id=battle.id,
        choice=recorded.choice,
        counted=recorded.counted,
        discard_reason=recorded.discard_reason,
        discard_term_kind=recorded.discard_term_kind,
        in_window=criteria_service.in_window(
            recorded.voted_at, await criteria_service.cutoff(ctx.session, battle.stage_id)
        ),
        a=RevealedOut(team_name=await service.team_name(ctx.session, battle.a_team_id)),
        b=RevealedOut(team_name=await service.team_name(ctx.session, battle.b_team_id)),
    )


@router.post(
    "/v1/stages/{stage_id}/arena/anonymous/battles",
    status_code=status.HTTP_201_CREATED,
    response_model=BattleOut,
    responses=problem_responses(401, 403, 409, 422, 429, 503),
    summary="Start an anonymous voter's battle",
)
async def start_anonymous_battle(
    stage_id: uuid.UUID, body: AnonymousBattleIn, gateway: ArenaGatewayDep, ctx: ActorCtx
) -> BattleOut:
    """The battle of `POST /v1/stages/{stage_id}/arena/battles` for a person who has not signed
    in, on a stage whose public mode an operator switched on (else `arena-not-public`, 403). Only
    the web tier's service token (`FMC_SCORING_ARENA_PUBLIC_CALLERS`) may call it, naming the
    voter by the pseudonym it derived from its session (`voter`); the same hygiene rules hold, with
    the anonymous daily cap (`FMC_SCORING_ARENA_ANONYMOUS_DAILY_VOTES`)."""
    battle = await service.start_battle(ctx, gateway, stage_id, body.prompt, _anonymous(ctx, body.voter))
    return _battle_out(battle)


@router.post(
    "/v1/stages/{stage_id}/arena/anonymous/battles/stream",
    status_code=status.HTTP_200_OK,
    response_class=ClosingStreamingResponse,
    responses=problem_responses(401, 403, 409, 422, 429, 503)
    | ndjson_responses(
        "the battle's events, one JSON object per line (docs/scoring.md, Arena)",
        BattleText,
        BattleDone,
        BattleFailed,
    ),
    summary="Start an anonymous voter's battle, streamed",
)
async def stream_anonymous_battle(
    stage_id: uuid.UUID,
    body: AnonymousBattleIn,
    gateway: ArenaGatewayDep,
    ctx: ActorCtx,
    runtime: RuntimeDep,
) -> ClosingStreamingResponse:
    """The streamed battle for an anonymous voter (web tier only; refusals as for the whole
    anonymous battle, before the stream)."""
    return await _streamed(ctx, gateway, runtime, stage_id, body.prompt, _anonymous(ctx, body.voter))


@router.post(
    "/v1/arena/anonymous/battles/{battle_id}/vote",
    status_code=status.HTTP_201_CREATED,
    response_model=VoteOut,
    responses=problem_responses(401, 403, 404, 409, 410, 422, 429),
    summary="Vote on an anonymous voter's battle",
)
async def vote_anonymously(battle_id: uuid.UUID, body: AnonymousVoteIn, ctx: ActorCtx) -> VoteOut:
    """The anonymous voter's one vote on their battle (web tier only), under the same rules as
    `POST /v1/arena/battles/{battle_id}/vote`, while the stage's public mode is on
    (`arena-not-public`, 403). The vote is kept and counted apart: never in the stage's evidence
    (docs/decisions/2026-12-06-anonymous-arena.md)."""
    return await _voted(ctx, battle_id, body, _anonymous(ctx, body.voter))


@router.get(
    "/v1/stages/{stage_id}/arena/standings",
    response_model=StandingsOut,
    responses=problem_responses(401, 403),
    summary="Arena standings",
)
async def standings(
    stage_id: uuid.UUID,
    ctx: OperatorCtx,
    voters: Literal["registered", "anonymous"] = "registered",
) -> StandingsOut:
    """Bradley-Terry ratings of the stage's teams from the counted votes under a weak prior (stated
    as `prior_sd`), with 95 % bootstrap intervals that contain their rating, and ranks by Chatbot
    Arena's rule (operators only: confidential). `voters=anonymous`: the public arena's votes,
    rated apart (they never enter the stage's evidence)."""
    found = await service.standings_of(
        ctx.session, stage_id, ctx.settings.arena_bootstrap_rounds, anonymous=voters == "anonymous"
    )
    teams = []
    for team_id, standing in sorted(found.teams.items(), key=lambda p: (p[1].rank, -p[1].rating)):
        teams.append(
            StandingOut(
                team_id=team_id,
                team_name=await service.team_name(ctx.session, team_id),
                rating=standing.rating,
                lower=standing.lower,
                upper=standing.upper,
                arena_rank=standing.rank,
                win_rate=standing.win_rate,
                votes=standing.votes,
            )
        )
    return StandingsOut(
        stage_id=stage_id,
        votes=found.votes,
        converged=found.converged,
        bootstrap_rounds=found.rounds,
        prior_sd=found.prior_sd,
        groups=found.groups,
        teams=teams,
    )


@router.post(
    "/v1/stages/{stage_id}/arena/exclusions",
    status_code=status.HTTP_201_CREATED,
    response_model=ExclusionOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Exclude votes",
)
async def exclude_votes(stage_id: uuid.UUID, body: ExclusionIn, ctx: OperatorCtx) -> ExclusionOut:
    """Exclude every vote of a voter, or the named votes, for a stated hygiene reason (operators;
    audited). The votes are kept and never count again; the reply says how many were excluded.
    Before publication the next proposal leaves them out; after it, they leave the count only in a
    re-evaluation ordered by an accepted objection concerning the process. Unknown votes are refused
    with `vote-not-found` (404), votes all excluded already with `votes-already-excluded` (409)."""
    exclusion, excluded, already = await service.exclude_votes(
        ctx, stage_id, body.category, body.reason, body.voter, body.vote_ids
    )
    return ExclusionOut(
        exclusion_id=exclusion.id,
        stage_id=stage_id,
        category=exclusion.category,
        reason=exclusion.reason,
        voter=exclusion.voter,
        excluded=exclusion.excluded,
        already_excluded=already,
        vote_ids=excluded,
        excluded_by=exclusion.excluded_by,
        excluded_at=exclusion.excluded_at,
    )


@router.get(
    "/v1/stages/{stage_id}/arena/votes",
    response_model=list[VoteRecordOut],
    responses=problem_responses(401, 403),
    summary="Votes kept",
)
async def list_votes(
    stage_id: uuid.UUID,
    ctx: OperatorCtx,
    voter: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> list[VoteRecordOut]:
    """Every vote of the stage (or of one voter), with whether it counts: discarded by a hygiene
    rule (with the term it matched), cast after the evidence cut-off (`in_window` false), excluded
    by an operator, or left out of the standings as a malformed record (operators only:
    confidential)."""
    cut = await criteria_service.cutoff(ctx.session, stage_id)
    return [
        VoteRecordOut(
            battle_id=v.battle_id,
            voter=v.voter,
            choice=v.choice,
            voted_at=v.voted_at,
            counted=v.counted,
            discard_reason=v.discard_reason,
            discard_term_kind=v.discard_term_kind,
            discard_term=v.discard_term,
            in_window=criteria_service.in_window(v.voted_at, cut),
            exclusion_id=v.exclusion_id,
            malformed=await service.malformed(ctx.session, v),
            anonymous=v.anonymous,
        )
        for v in await service.list_votes(ctx.session, stage_id, voter)
    ]
