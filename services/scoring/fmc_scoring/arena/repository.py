from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.arena.models import Battle, Vote


async def counted_votes(session: AsyncSession, stage_id: uuid.UUID) -> list[tuple[Vote, Battle]]:
    """The votes not discarded and not excluded (the cut-off is applied by the caller)."""
    query = (
        select(Vote, Battle)
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.stage_id == stage_id, Vote.counted.is_(True), Vote.exclusion_id.is_(None))
        .order_by(Vote.battle_id)
    )
    return [(vote, battle) for vote, battle in (await session.execute(query)).all()]


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
