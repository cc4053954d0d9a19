from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.programmes.models import Programme, Stage


async def get(session: AsyncSession, programme_id: uuid.UUID) -> Programme | None:
    return await session.get(Programme, programme_id)


async def get_by_name(session: AsyncSession, name: str) -> Programme | None:
    return await session.scalar(select(Programme).where(Programme.name == name))


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Programme]:
    query = select(Programme).order_by(Programme.id).limit(limit)
    if after is not None:
        query = query.where(Programme.id > after)
    return list(await session.scalars(query))


async def get_stage(session: AsyncSession, stage_id: uuid.UUID, *, lock: bool = False) -> Stage | None:
    if lock:
        # Serialises status changes of one stage (freeze vs. a late submission) on PostgreSQL.
        return await session.scalar(select(Stage).where(Stage.id == stage_id).with_for_update())
    return await session.get(Stage, stage_id)


async def stages_of(session: AsyncSession, programme_id: uuid.UUID) -> list[Stage]:
    query = select(Stage).where(Stage.programme_id == programme_id).order_by(Stage.number)
    return list(await session.scalars(query))


async def stage_by_number(session: AsyncSession, programme_id: uuid.UUID, number: int) -> Stage | None:
    query = select(Stage).where(Stage.programme_id == programme_id, Stage.number == number)
    return await session.scalar(query)
