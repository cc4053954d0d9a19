from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.grading.models import ItemGradeRow, ItemSample, RunGrade
from fmc_scoring.planning.models import PlannedRun


async def grades_of_stage(session: AsyncSession, stage_id: uuid.UUID) -> list[tuple[RunGrade, PlannedRun]]:
    query = (
        select(RunGrade, PlannedRun)
        .join(PlannedRun, PlannedRun.id == RunGrade.run_id)
        .where(PlannedRun.stage_id == stage_id)
        .order_by(PlannedRun.team_id, PlannedRun.suite_id)
    )
    return [(grade, run) for grade, run in (await session.execute(query)).all()]


async def item_grades(session: AsyncSession, run_id: uuid.UUID) -> list[ItemGradeRow]:
    query = select(ItemGradeRow).where(ItemGradeRow.run_id == run_id).order_by(ItemGradeRow.seq)
    return list(await session.scalars(query))


async def item_samples(session: AsyncSession, run_id: uuid.UUID) -> list[ItemSample]:
    query = (
        select(ItemSample).where(ItemSample.run_id == run_id).order_by(ItemSample.sample, ItemSample.item_id)
    )
    return list(await session.scalars(query))


async def clear(session: AsyncSession, run_id: uuid.UUID) -> None:
    await session.execute(delete(ItemSample).where(ItemSample.run_id == run_id))
    await session.execute(delete(ItemGradeRow).where(ItemGradeRow.run_id == run_id))
    await session.execute(delete(RunGrade).where(RunGrade.run_id == run_id))


async def grade(session: AsyncSession, run_id: uuid.UUID) -> RunGrade | None:
    return await session.get(RunGrade, run_id)
