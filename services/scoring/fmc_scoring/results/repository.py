from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.results.models import ResultStatus, StageResult, TeamResult


async def versions(session: AsyncSession, stage_id: uuid.UUID) -> list[StageResult]:
    query = select(StageResult).where(StageResult.stage_id == stage_id).order_by(StageResult.version)
    return list(await session.scalars(query))


async def by_version(session: AsyncSession, stage_id: uuid.UUID, version: int) -> StageResult | None:
    query = select(StageResult).where(StageResult.stage_id == stage_id, StageResult.version == version)
    return await session.scalar(query)


async def last_version(session: AsyncSession, stage_id: uuid.UUID) -> int:
    found = await session.scalar(
        select(func.max(StageResult.version)).where(StageResult.stage_id == stage_id)
    )
    return int(found or 0)


async def current_approved(session: AsyncSession, stage_id: uuid.UUID) -> StageResult | None:
    """The version in force: the latest approved one."""
    query = (
        select(StageResult)
        .where(StageResult.stage_id == stage_id, StageResult.status == ResultStatus.APPROVED)
        .order_by(StageResult.version.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def team_rows(session: AsyncSession, result_id: uuid.UUID) -> list[TeamResult]:
    query = select(TeamResult).where(TeamResult.result_id == result_id).order_by(TeamResult.team_id)
    return list(await session.scalars(query))


async def team_row(session: AsyncSession, result_id: uuid.UUID, team_id: uuid.UUID) -> TeamResult | None:
    return await session.get(TeamResult, (result_id, team_id))
