from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.planning.models import EvaluatedSubmission, Evaluation, PlannedRun, SampleRun


async def submissions(session: AsyncSession, stage_id: uuid.UUID) -> list[EvaluatedSubmission]:
    query = select(EvaluatedSubmission).where(EvaluatedSubmission.stage_id == stage_id)
    return list(await session.scalars(query.order_by(EvaluatedSubmission.team_id)))


async def runs_of_stage(session: AsyncSession, stage_id: uuid.UUID) -> list[PlannedRun]:
    query = select(PlannedRun).where(PlannedRun.stage_id == stage_id)
    return list(await session.scalars(query.order_by(PlannedRun.team_id, PlannedRun.suite_id)))


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> PlannedRun | None:
    return await session.get(PlannedRun, run_id)


async def evaluation(session: AsyncSession, stage_id: uuid.UUID, *, lock: bool = False) -> Evaluation | None:
    """The stage's evaluation, once the registry started it; with ``lock``, locked (``FOR UPDATE``)
    until the transaction ends: the lock every change of the stage's result takes."""
    return await session.get(Evaluation, stage_id, with_for_update=lock)


async def submission(
    session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID
) -> EvaluatedSubmission | None:
    return await session.get(EvaluatedSubmission, (stage_id, team_id))


async def sample_run(session: AsyncSession, run_id: uuid.UUID) -> SampleRun | None:
    return await session.get(SampleRun, run_id)


async def sample_runs(session: AsyncSession, team_run_id: uuid.UUID) -> list[SampleRun]:
    """The planned run's extra samples (pass@k), in sample order."""
    query = select(SampleRun).where(SampleRun.team_run_id == team_run_id).order_by(SampleRun.sample)
    return list(await session.scalars(query))
