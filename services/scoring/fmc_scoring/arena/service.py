"""The arena: battles through the gateway, one vote per battle, self-identification, daily caps."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SEOUL
from fmc_common.errors import AppError, Conflict, Forbidden, NotFound
from fmc_scoring.arena import repository
from fmc_scoring.arena.gateway import ArenaGateway
from fmc_scoring.arena.identity import identity_terms, names_itself
from fmc_scoring.arena.models import Battle, Vote, VoteExclusion
from fmc_scoring.arena.standings import (
    Choice,
    DiscardReason,
    ExclusionCategory,
    Standings,
    Tally,
    standings,
)
from fmc_scoring.audit import service as audit
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


class VoteNotFound(NotFound):
    code = "vote-not-found"
    title = "No such vote in this stage"


class VotesAlreadyExcluded(Conflict):
    code = "votes-already-excluded"
    title = "Every vote named is excluded already"


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


@dataclass(frozen=True)
class ArenaEvidence:
    """The standings, and the votes they count (battle ids: a vote's id is its battle's)."""

    standings: Standings
    vote_ids: tuple[uuid.UUID, ...]
    out_of_window: int
    excluded: int


def votes_sha256(vote_ids: Sequence[uuid.UUID]) -> str:
    """sha256 over the counted votes' ids, sorted, one per line: pins exactly which votes counted."""
    return hashlib.sha256("".join(f"{v}\n" for v in sorted(str(i) for i in vote_ids)).encode()).hexdigest()


async def arena_evidence(
    session: AsyncSession, stage_id: uuid.UUID, rounds: int, cutoff: datetime | None
) -> ArenaEvidence:
    """Standings from the votes that count: not discarded (self-identification), not excluded by an
    operator, cast at or before the cut-off (a fixed seed: reproducible).

    The votes are streamed and tallied by (A team, B team, choice) as they arrive, so memory grows
    with the votes' ids and the distinct pairings, not with battles' prompts and answers; the fit
    runs in a worker thread, off the event loop."""
    tally: Counter[tuple[uuid.UUID, uuid.UUID, Choice]] = Counter()
    vote_ids: list[uuid.UUID] = []
    out_of_window = excluded = 0
    async for fact in repository.vote_facts(session, stage_id):
        in_window = criteria_service.in_window(fact.voted_at, cutoff)
        out_of_window += not in_window
        excluded += fact.excluded
        if in_window and fact.counted and not fact.excluded:
            tally[(fact.a_team_id, fact.b_team_id, fact.choice)] += 1
            vote_ids.append(fact.battle_id)
    found = await asyncio.to_thread(standings, Tally(dict(tally)), rounds=rounds, seed=0)
    return ArenaEvidence(
        standings=found, vote_ids=tuple(vote_ids), out_of_window=out_of_window, excluded=excluded
    )


async def standings_of(session: AsyncSession, stage_id: uuid.UUID, rounds: int) -> Standings:
    """The stage's standings as they stand now, within the stage's cut-off (if fixed)."""
    cut = await criteria_service.cutoff(session, stage_id)
    return (await arena_evidence(session, stage_id, rounds, cut)).standings


async def exclude_votes(
    ctx: ScoringCtx,
    stage_id: uuid.UUID,
    category: ExclusionCategory,
    reason: str,
    voter: str | None,
    vote_ids: Sequence[uuid.UUID],
) -> tuple[VoteExclusion, list[uuid.UUID], int]:
    """Exclude a voter's votes, or the named votes, for a stated hygiene reason (audited). They are
    kept and never count again: in every proposal, and after publication in a re-evaluation
    ordered by an accepted objection concerning the process. Returns the exclusion, the votes it
    excluded and how many of those named were excluded already."""
    found = await repository.votes(ctx.session, stage_id, voter)
    if vote_ids:
        by_id = {v.battle_id: v for v in found}
        missing = [str(i) for i in vote_ids if i not in by_id]
        if missing:
            raise VoteNotFound(f"stage {stage_id} has no vote {missing[0]}", vote_ids=missing)
        found = [by_id[i] for i in dict.fromkeys(vote_ids)]
    if not found:
        raise VoteNotFound(f"stage {stage_id} has no vote from {voter}")
    fresh = [v for v in found if v.exclusion_id is None]
    if not fresh:
        raise VotesAlreadyExcluded(f"the {len(found)} votes named are excluded already")
    exclusion = VoteExclusion(
        id=uuid.uuid4(),
        stage_id=stage_id,
        voter=voter,
        category=category,
        reason=reason,
        excluded=len(fresh),
        excluded_by=ctx.actor.subject,
        excluded_at=ctx.clock.now(),
    )
    ctx.session.add(exclusion)
    await ctx.session.flush()
    for vote in fresh:
        vote.exclusion_id = exclusion.id
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="arena.votes-excluded",
        entity_type="stage",
        entity_id=stage_id,
        reason=reason,
        details={
            "exclusion_id": str(exclusion.id),
            "category": category.value,
            "voter": voter,
            "excluded": len(fresh),
            "already_excluded": len(found) - len(fresh),
            "vote_ids": [str(v.battle_id) for v in fresh],
        },
    )
    return exclusion, [v.battle_id for v in fresh], len(found) - len(fresh)


async def team_name(session: AsyncSession, team_id: uuid.UUID) -> str:
    """The name scoring recorded for the team; its id while the registry's event has not arrived."""
    participant = await session.get(Participant, team_id)
    return participant.name if participant else str(team_id)


async def list_votes(session: AsyncSession, stage_id: uuid.UUID, voter: str | None) -> list[Vote]:
    return await repository.votes(session, stage_id, voter)
