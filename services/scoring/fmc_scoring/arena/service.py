"""The arena: battles through the gateway, one vote per battle before it expires, identity hygiene
(prompt and answers), daily caps that hold under concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SEOUL
from fmc_common.db import is_unique_violation
from fmc_common.errors import AppError, Conflict, Forbidden, NotFound
from fmc_scoring.arena import records, repository
from fmc_scoring.arena.gateway import ArenaGateway, GatewayBattle
from fmc_scoring.arena.identity import Alias, Term, identity_terms, named_term
from fmc_scoring.arena.models import Battle, Vote, VoteExclusion
from fmc_scoring.arena.standings import (
    Choice,
    DiscardReason,
    ExclusionCategory,
    Standings,
    standings,
)
from fmc_scoring.audit import service as audit
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.participants.models import Participant
from fmc_scoring.planning import repository as planning
from fmc_scoring.planning.models import EvaluatedSubmission

log = logging.getLogger(__name__)


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


class BattleExpired(AppError):
    status = 410
    code = "battle-expired"
    title = "The battle's time to vote has passed; start another battle"


class ArenaNotPublic(Forbidden):
    code = "arena-not-public"
    title = "The stage's arena is not open to anonymous voters; sign in as a registered voter"


ANONYMOUS = "anonymous:"


@dataclass(frozen=True)
class Voter:
    """Who votes: a registered field user (their token's subject), or an anonymous person of the
    public arena (``anonymous:`` and the pseudonym the web tier derived from its session), each
    with its own daily cap. A registered subject never takes the anonymous prefix."""

    id: str
    anonymous: bool
    cap: int

    @classmethod
    def registered(cls, subject: str, cap: int) -> Voter:
        if subject.startswith(ANONYMOUS):
            raise Forbidden("a registered voter's subject may not look like an anonymous voter's")
        return cls(subject, False, cap)

    @classmethod
    def public(cls, pseudonym: str, cap: int) -> Voter:
        return cls(ANONYMOUS + pseudonym, True, cap)


def seoul_day(when: datetime) -> str:
    return when.astimezone(SEOUL).date().isoformat()


def pseudonym(subject: str) -> str:
    """The gateway rate-limits voters without learning who they are."""
    return hashlib.sha256(f"fmc-voter:{subject}".encode()).hexdigest()[:32]


def _at_cap(cap: int, day: str) -> DailyVoteCap:
    return DailyVoteCap(f"{cap} counted votes today ({day}, Asia/Seoul)", cap=cap, day=day)


async def _check_cap(ctx: ScoringCtx, voter: Voter) -> None:
    """Refuse early (before any inference) a voter already at the cap; the vote itself is counted
    atomically by ``_count_vote``."""
    day = seoul_day(ctx.clock.now())
    if await repository.counted_today(ctx.session, voter.id, day) >= voter.cap:
        raise _at_cap(voter.cap, day)


async def _count_vote(ctx: ScoringCtx, voter: Voter, day: str) -> None:
    """Take one of the voter's counted votes for the day, in the vote's transaction (429 at the cap)."""
    if not await repository.count_vote(ctx.session, voter.id, day, voter.cap):
        raise _at_cap(voter.cap, day)


async def _public_checked(ctx: ScoringCtx, stage_id: uuid.UUID, voter: Voter) -> None:
    """An anonymous voter only while the stage's public mode is on (``arena-not-public``)."""
    if voter.anonymous and not await repository.is_public(ctx.session, stage_id):
        raise ArenaNotPublic(f"stage {stage_id}'s arena takes registered voters only", stage_id=str(stage_id))


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


@dataclass(frozen=True)
class BattleRequest:
    """A voter's battle, checked (the arena is open, the voter under today's cap): what the gateway
    is asked, and what turns its answer into the stored battle."""

    stage_id: uuid.UUID
    voter: str
    prompt: str
    contenders: list[dict[str, object]]
    decoding: dict[str, object]
    team_of: dict[uuid.UUID, uuid.UUID]

    def battle(self, answer: GatewayBattle, now: datetime) -> Battle:
        return Battle(
            id=answer.battle_id,
            stage_id=self.stage_id,
            voter=self.voter,
            prompt=self.prompt,
            a_team_id=self.team_of[answer.a_submission_id],
            b_team_id=self.team_of[answer.b_submission_id],
            a_submission_id=answer.a_submission_id,
            b_submission_id=answer.b_submission_id,
            a_text=answer.a_text,
            b_text=answer.b_text,
            gateway_battle_id=str(answer.battle_id),
            created_at=now,
        )


async def battle_request(ctx: ScoringCtx, stage_id: uuid.UUID, prompt: str, voter: Voter) -> BattleRequest:
    """Refuse a battle that cannot be (``arena-not-public``, ``arena-not-open``, ``daily-vote-cap``),
    before asking the gateway."""
    await _public_checked(ctx, stage_id, voter)
    submissions = await planning.submissions(ctx.session, stage_id)
    if len(submissions) < 2:
        raise ArenaNotOpen(f"stage {stage_id} has fewer than two evaluated models")
    await _check_cap(ctx, voter)
    criteria = await criteria_service.load(ctx.session, stage_id)
    return BattleRequest(
        stage_id=stage_id,
        voter=voter.id,
        prompt=prompt,
        contenders=[_contender(s) for s in submissions],
        decoding=dict(criteria.row.decoding) if criteria else {},
        team_of={s.submission_id: s.team_id for s in submissions},
    )


async def start_battle(
    ctx: ScoringCtx, gateway: ArenaGateway, stage_id: uuid.UUID, prompt: str, voter: Voter
) -> Battle:
    request = await battle_request(ctx, stage_id, prompt, voter)
    answer = await gateway.battle(
        stage_id, pseudonym(request.voter), prompt, request.contenders, request.decoding
    )
    battle = request.battle(answer, ctx.clock.now())
    ctx.session.add(battle)
    await ctx.session.flush()
    return battle


async def _terms(
    ctx: ScoringCtx, stage_id: uuid.UUID, team_id: uuid.UUID, submission_id: uuid.UUID
) -> list[Term]:
    """The names of one contender: its team, maker, served model and the operators' aliases."""
    team = await ctx.session.get(Participant, team_id)
    submission = await planning.submission(ctx.session, stage_id, team_id)
    model = (
        submission.served_by().model_name
        if submission and submission.submission_id == submission_id
        else None
    )
    aliases = [Alias(a.alias, a.kind) for a in await repository.aliases(ctx.session, team_id)]
    return identity_terms(team.name if team else "", team.lead_organisation if team else "", model, aliases)


@dataclass(frozen=True)
class Discard:
    """The rule that discarded a vote and the term it matched."""

    reason: DiscardReason
    term: Term


async def _discard(ctx: ScoringCtx, battle: Battle) -> Discard | None:
    """The prompt naming either contender, or an answer naming its own, discards the vote."""
    a_terms = await _terms(ctx, battle.stage_id, battle.a_team_id, battle.a_submission_id)
    b_terms = await _terms(ctx, battle.stage_id, battle.b_team_id, battle.b_submission_id)
    either = sorted({*a_terms, *b_terms}, key=lambda t: (-len(t.text), t.text))
    if (term := named_term(battle.prompt, either)) is not None:
        return Discard(DiscardReason.PROMPT_IDENTIFICATION, term)
    for text, terms in ((battle.a_text, a_terms), (battle.b_text, b_terms)):
        if (term := named_term(text, terms)) is not None:
            return Discard(DiscardReason.SELF_IDENTIFICATION, term)
    return None


async def _votable(ctx: ScoringCtx, battle_id: uuid.UUID, voter: Voter, expiry: timedelta) -> Battle:
    battle = await repository.get_battle(ctx.session, battle_id)
    if battle is None:
        raise BattleNotFound(f"no battle with id {battle_id}")
    if battle.voter != voter.id:
        raise NotYourBattle("only the voter who started the battle may vote on it")
    await _public_checked(ctx, battle.stage_id, voter)
    if await repository.get_vote(ctx.session, battle_id) is not None:
        raise AlreadyVoted(f"battle {battle_id} already has its vote")
    expires_at = battle.created_at + expiry
    if ctx.clock.now() >= expires_at:
        raise BattleExpired(
            f"battle {battle_id} took votes until {expires_at.isoformat()}",
            expired_at=expires_at.isoformat(),
            expiry_seconds=int(expiry.total_seconds()),
        )
    return battle


async def vote(
    ctx: ScoringCtx, battle_id: uuid.UUID, choice: Choice, voter: Voter, expiry: timedelta
) -> tuple[Battle, Vote]:
    """Record the voter's one vote on their battle, within ``expiry`` of its start. A vote the
    hygiene rules discard is kept, not counted, and takes nothing of the daily cap. An anonymous
    voter's vote needs the stage's public mode still on."""
    battle = await _votable(ctx, battle_id, voter, expiry)
    now = ctx.clock.now()
    day = seoul_day(now)
    discard = await _discard(ctx, battle)
    if discard is None:
        await _count_vote(ctx, voter, day)
    recorded = Vote(
        battle_id=battle.id,
        stage_id=battle.stage_id,
        voter=voter.id,
        choice=choice,
        counted=discard is None,
        discard_reason=discard.reason if discard else None,
        discard_term_kind=discard.term.kind if discard else None,
        discard_term=discard.term.text[:200] if discard else None,
        seoul_day=day,
        voted_at=now,
        anonymous=voter.anonymous,
    )
    ctx.session.add(recorded)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:
        # The same battle's vote, sent twice at once: the second waited for the first's row and
        # is refused; its counter increment goes with its rolled-back transaction.
        if is_unique_violation(exc):
            raise AlreadyVoted(f"battle {battle_id} already has its vote") from exc
        raise
    return battle, recorded


@dataclass(frozen=True)
class ArenaEvidence:
    """The standings, and the votes they count (battle ids: a vote's id is its battle's)."""

    standings: Standings
    vote_ids: tuple[uuid.UUID, ...]
    out_of_window: int
    excluded: int
    malformed: tuple[records.Dropped, ...] = ()


def votes_sha256(vote_ids: Sequence[uuid.UUID]) -> str:
    """sha256 over the counted votes' ids, sorted, one per line: pins exactly which votes counted."""
    return hashlib.sha256("".join(f"{v}\n" for v in sorted(str(i) for i in vote_ids)).encode()).hexdigest()


async def arena_evidence(
    session: AsyncSession,
    stage_id: uuid.UUID,
    rounds: int,
    cutoff: datetime | None,
    *,
    anonymous: bool = False,
) -> ArenaEvidence:
    """Standings from the votes that count: not discarded (self-identification), not excluded by an
    operator, cast at or before the cut-off (a fixed seed: reproducible). The stage's evidence takes
    the registered voters' votes only; ``anonymous`` gives the public arena's apart (operators).

    The votes are streamed and tallied by (A team, B team, choice) as they arrive, so memory grows
    with the votes' ids and the distinct pairings, not with battles' prompts and answers; the fit
    runs in a worker thread, off the event loop. A record the ratings cannot take (a self-battle, a
    vote whose battle is missing) is left out with its reason (``records``), never failing the stage."""
    kept: list[records.VoteRecord] = []
    out_of_window = excluded = 0
    async for fact in repository.vote_facts(session, stage_id, anonymous):
        in_window = criteria_service.in_window(fact.voted_at, cutoff)
        out_of_window += not in_window
        excluded += fact.excluded
        if in_window and fact.counted and not fact.excluded:
            kept.append(records.VoteRecord(fact.battle_id, fact.a_team_id, fact.b_team_id, fact.choice))
    screened = records.screen(kept)
    found = await asyncio.to_thread(standings, screened.votes, rounds=rounds, seed=0)
    return ArenaEvidence(
        standings=found,
        vote_ids=tuple(screened.vote_ids),
        out_of_window=out_of_window,
        excluded=excluded,
        malformed=_dropped(stage_id, screened.dropped),
    )


def _dropped(stage_id: uuid.UUID, dropped: list[records.Dropped]) -> tuple[records.Dropped, ...]:
    """Malformed records are left out of the standings, and said so in the logs (and to operators,
    per vote, in the votes list)."""
    for record in dropped:
        log.warning(
            "arena vote left out of the standings",
            extra={"stage_id": str(stage_id), "battle_id": str(record.battle_id), "reason": record.reason},
        )
    return tuple(dropped)


async def standings_of(
    session: AsyncSession, stage_id: uuid.UUID, rounds: int, *, anonymous: bool = False
) -> Standings:
    """The stage's standings as they stand now, within the stage's cut-off (if fixed): the
    registered voters' (the evidence's), or the anonymous voters' apart."""
    cut = await criteria_service.cutoff(session, stage_id)
    return (await arena_evidence(session, stage_id, rounds, cut, anonymous=anonymous)).standings


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


async def malformed(session: AsyncSession, vote: Vote) -> records.MalformedReason | None:
    """Why the standings leave this vote out as a malformed record, if they do."""
    battle = await repository.get_battle(session, vote.battle_id)
    if battle is None:
        return records.malformed(records.VoteRecord(vote.battle_id, None, None, vote.choice))
    record = records.VoteRecord(vote.battle_id, battle.a_team_id, battle.b_team_id, vote.choice)
    return records.malformed(record)
