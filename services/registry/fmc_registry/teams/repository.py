from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.teams.models import Team


async def get(session: AsyncSession, team_id: uuid.UUID) -> Team | None:
    return await session.get(Team, team_id)


async def get_by_name(session: AsyncSession, name: str) -> Team | None:
    return await session.scalar(select(Team).where(Team.name == name))


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Team]:
    query = select(Team).order_by(Team.id).limit(limit)
    if after is not None:
        query = query.where(Team.id > after)
    return list(await session.scalars(query))


def add(session: AsyncSession, team: Team) -> None:
    session.add(team)
