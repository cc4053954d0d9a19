"""The arena: battles through the gateway, one vote per battle, self-identification, daily caps."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SEOUL
from fmc_common.errors import AppError, Conflict, Forbidden, NotFound
from fmc_scoring.arena import repository
from fmc_scoring.arena.gateway import ArenaGateway
from fmc_scoring.arena.identity import identity_terms, names_itself
from fmc_scoring.arena.models import Battle, Vote
from fmc_scoring.arena.standings import Choice, CountedVote, DiscardReason, Standings, standings
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.participants.models import Participant
from fmc_scoring.planning import repository as planning
from fmc_scoring.planning.models import EvaluatedSubmission


class ArenaNotOpen(Conflict):
    code = "arena-not-open"
    title = "The stage has no evaluation with at least two models to compare"


class DailyVoteCap(AppError):
    status = 429
    code = "daily-vote-cap"
    title = "This voter has reached today's number of counted votes (Asia/Seoul day)"


class BattleNotFound(NotFound):
    code = "battle-not-found"
    title = "No such battle"


class NotYourBattle(Forbidden):
    code = "not-your-battle"
    title = "Only the voter who started a battle may vote on it"


class AlreadyVoted(Conflict):
    code = "already-voted"
    title = "A battle takes one vote"


def seoul_day(when: datetime) -> str:
    return when.astimezone(SEOUL).date().isoformat()


def pseudonym(subject: str) -> str:
    """The gateway rate-limits voters without learning who they are."""
    return hashlib.sha256(f"fmc-voter:{subject}".encode()).hexdigest()[:32]


async def _check_cap(ctx: ScoringCtx, cap: int) -> None:
    day = seoul_day(ctx.clock.now())
    if await repository.counted_today(ctx.session, ctx.actor.subject, day) >= cap:
        raise DailyVoteCap(f"{cap} counted votes today ({day}, Asia/Seoul)", cap=cap, day=day)


def _contender(submission: EvaluatedSubmission) -> dict[str, object]:
    endpoint = submission.served_by()
    return {
        "submission_id": str(submission.submission_id),
        "endpoint": {
            "url": endpoint.url,
            "model_name": endpoint.model_name,
            "model_version": endpoint.model_version,
            "protocol": endpoint.protocol.lower(),
            "gpu_pool": endpoint.gpu_pool.upper(),
        },
    }


async def start_battle(
    ctx: ScoringCtx, gateway: ArenaGateway, stage_id: uuid.UUID, prompt: str, cap: int
) -> Battle:
    submissions = await planning.submissions(ctx.session, stage_id)
    if len(submissions) < 2:
        raise ArenaNotOpen(f"stage {stage_id} has fewer than two evaluated models")
    await _check_cap(ctx, cap)
    criteria = await criteria_service.load(ctx.session, stage_id)
    decoding = dict(criteria.row.decoding) if criteria else {}
    answer = await gateway.battle(
        stage_id, pseudonym(ctx.actor.subject), prompt, [_contender(s) for s in submissions], decoding
    )
    team_of = {s.submission_id: s.team_id for s in submissions}
    battle = Battle(
        id=answer.battle_id,
        stage_id=stage_id,
        voter=ctx.actor.subject,
        prompt=prompt,
        a_team_id=team_of[answer.a_submission_id],
        b_team_id=team_of[answer.b_submission_id],
        a_submission_id=answer.a_submission_id,
        b_submission_id=answer.b_submission_id,
        a_text=answer.a_text,
        b_text=answer.b_text,
        gateway_battle_id=str(answer.battle_id),
        created_at=ctx.clock.now(),
    )
    ctx.session.add(battle)
    await ctx.session.flush()
    return battle


async def _terms(
    ctx: ScoringCtx, stage_id: uuid.UUID, team_id: uuid.UUID, submission_id: uuid.UUID
) -> set[str]:
    team = await ctx.session.get(Participant, team_id)
    submission = await planning.submission(ctx.session, stage_id, team_id)
    model = (
        submission.served_by().model_name
        if submission and submission.submission_id == submission_id
        else None
    )
    return identity_terms(team.name if team else "", team.lead_organisation if team else "", model)


async def vote(ctx: ScoringCtx, battle_id: uuid.UUID, choice: Choice, cap: int) -> tuple[Battle, Vote]:
    battle = await repository.get_battle(ctx.session, battle_id)
    if battle is None:
        raise BattleNotFound(f"no battle with id {battle_id}")
    if battle.voter != ctx.actor.subject:
        raise NotYourBattle("only the voter who started the battle may vote on it")
    if await repository.get_vote(ctx.session, battle_id) is not None:
        raise AlreadyVoted(f"battle {battle_id} already has its vote")
    await _check_cap(ctx, cap)
    a_terms = await _terms(ctx, battle.stage_id, battle.a_team_id, battle.a_submission_id)
    b_terms = await _terms(ctx, battle.stage_id, battle.b_team_id, battle.b_submission_id)
    discarded = names_itself(battle.a_text, a_terms) or names_itself(battle.b_text, b_terms)
    now = ctx.clock.now()
    recorded = Vote(
        battle_id=battle.id,
        stage_id=battle.stage_id,
        voter=ctx.actor.subject,
        choice=choice,
        counted=not discarded,
        discard_reason=DiscardReason.SELF_IDENTIFICATION if discarded else None,
        seoul_day=seoul_day(now),
        voted_at=now,
    )
    ctx.session.add(recorded)
    await ctx.session.flush()
    return battle, recorded


async def standings_of(session: AsyncSession, stage_id: uuid.UUID, rounds: int) -> Standings:
    """The stage's Bradley-Terry standings from its counted votes (a fixed seed: reproducible)."""
    rows = await repository.counted_votes(session, stage_id)
    votes = [CountedVote(battle.a_team_id, battle.b_team_id, vote.choice) for vote, battle in rows]
    return standings(votes, rounds=rounds, seed=0)


async def team_name(session: AsyncSession, team_id: uuid.UUID) -> str:
    """The name scoring recorded for the team; its id while the registry's event has not arrived."""
    participant = await session.get(Participant, team_id)
    return participant.name if participant else str(team_id)
