from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.arena.models import ArenaSetting, Battle, TeamAlias, Vote, VoteCount
from fmc_scoring.arena.standings import Choice

# Rows fetched per round trip when streaming a stage's votes: memory stays flat whatever the votes.
STREAM_ROWS = 2000


@dataclass(frozen=True)
class VoteFact:
    """What the standings read of a vote: who met whom, the choice, and whether it counts (no
    prompt, no answers)."""

    battle_id: uuid.UUID
    a_team_id: uuid.UUID | None
    """None (with ``b_team_id``) when the vote's battle is missing: a malformed record."""
    b_team_id: uuid.UUID | None
    choice: Choice
    voted_at: datetime
    counted: bool
    excluded: bool


async def vote_facts(
    session: AsyncSession, stage_id: uuid.UUID, anonymous: bool = False
) -> AsyncIterator[VoteFact]:
    """Every vote of the stage by registered voters (or, ``anonymous``, by the public arena's),
    streamed (a server-side cursor on PostgreSQL), oldest battle id first."""
    query = (
        select(
            Vote.battle_id,
            Battle.a_team_id,
            Battle.b_team_id,
            Vote.choice,
            Vote.voted_at,
            Vote.counted,
            Vote.exclusion_id.is_not(None),
        )
        .outerjoin(Battle, Battle.id == Vote.battle_id)
        .where(Vote.stage_id == stage_id, Vote.anonymous == anonymous)
        .order_by(Vote.battle_id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    async for row in await session.stream(query):
        yield VoteFact(*row)


async def votes(session: AsyncSession, stage_id: uuid.UUID, voter: str | None = None) -> list[Vote]:
    query = select(Vote).where(Vote.stage_id == stage_id)
    if voter is not None:
        query = query.where(Vote.voter == voter)
    return list(await session.scalars(query.order_by(Vote.voted_at, Vote.battle_id)))


async def counted_today(session: AsyncSession, voter: str, seoul_day: str) -> int:
    """The voter's counted votes that day, as the cap's counter holds them."""
    query = select(VoteCount.counted).where(VoteCount.voter == voter, VoteCount.seoul_day == seoul_day)
    return int(await session.scalar(query) or 0)


async def count_vote(session: AsyncSession, voter: str, seoul_day: str, cap: int) -> bool:
    """Raise the voter's counter for the day by one unless it is at the cap, in one statement.

    The upsert's ``WHERE`` is evaluated on the row as locked (PostgreSQL re-reads it after a
    concurrent writer commits; SQLite writes one transaction at a time), so of concurrent votes
    exactly those under the cap are counted. False: at the cap, nothing changed."""
    values = {"voter": voter, "seoul_day": seoul_day, "counted": 1}
    keys = ["voter", "seoul_day"]
    raised = {"counted": VoteCount.counted + 1}
    under = VoteCount.counted < cap
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(VoteCount).values(values)
        upsert: Insert = pg.on_conflict_do_update(index_elements=keys, set_=raised, where=under)
    else:
        lite = sqlite.insert(VoteCount).values(values)
        upsert = lite.on_conflict_do_update(index_elements=keys, set_=raised, where=under)
    return (await session.execute(upsert.returning(VoteCount.counted))).first() is not None


async def get_battle(session: AsyncSession, battle_id: uuid.UUID) -> Battle | None:
    return await session.get(Battle, battle_id)


async def get_vote(session: AsyncSession, battle_id: uuid.UUID) -> Vote | None:
    return await session.get(Vote, battle_id)


async def aliases(session: AsyncSession, team_id: uuid.UUID) -> list[TeamAlias]:
    query = select(TeamAlias).where(TeamAlias.team_id == team_id)
    return list(await session.scalars(query.order_by(TeamAlias.added_at, TeamAlias.id)))


async def alias_named(session: AsyncSession, team_id: uuid.UUID, normalised: str) -> TeamAlias | None:
    query = select(TeamAlias).where(TeamAlias.team_id == team_id, TeamAlias.normalised == normalised)
    return (await session.scalars(query)).first()


async def arena_setting(session: AsyncSession, stage_id: uuid.UUID) -> ArenaSetting | None:
    return await session.get(ArenaSetting, stage_id)


async def arena_settings(session: AsyncSession) -> list[ArenaSetting]:
    return list(await session.scalars(select(ArenaSetting).order_by(ArenaSetting.stage_id)))


async def is_public(session: AsyncSession, stage_id: uuid.UUID) -> bool:
    """The stage's public mode; off unless an operator switched it on."""
    return bool(await session.scalar(select(ArenaSetting.public).where(ArenaSetting.stage_id == stage_id)))
