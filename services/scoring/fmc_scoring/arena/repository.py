from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.arena.models import Battle, Vote
from fmc_scoring.arena.standings import Choice

# Rows fetched per round trip when streaming a stage's votes: memory stays flat whatever the votes.
STREAM_ROWS = 2000


@dataclass(frozen=True)
class VoteFact:
    """What the standings read of a vote: who met whom, the choice, and whether it counts (no
    prompt, no answers)."""

    battle_id: uuid.UUID
    a_team_id: uuid.UUID
    b_team_id: uuid.UUID
    choice: Choice
    voted_at: datetime
    counted: bool
    excluded: bool


async def vote_facts(session: AsyncSession, stage_id: uuid.UUID) -> AsyncIterator[VoteFact]:
    """Every vote of the stage, streamed (a server-side cursor on PostgreSQL), oldest battle id first."""
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
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.stage_id == stage_id)
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
    query = (
        select(func.count())
        .select_from(Vote)
        .where(Vote.voter == voter, Vote.seoul_day == seoul_day, Vote.counted.is_(True))
    )
    return int(await session.scalar(query) or 0)


async def get_battle(session: AsyncSession, battle_id: uuid.UUID) -> Battle | None:
    return await session.get(Battle, battle_id)


async def get_vote(session: AsyncSession, battle_id: uuid.UUID) -> Vote | None:
    return await session.get(Vote, battle_id)
