from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.submissions.models import Statement, Submission


async def get(session: AsyncSession, submission_id: uuid.UUID) -> Submission | None:
    return await session.get(Submission, submission_id)


async def last_version(session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID) -> int:
    query = select(func.max(Submission.version)).where(
        Submission.stage_id == stage_id, Submission.team_id == team_id
    )
    return int(await session.scalar(query) or 0)


async def of_stage(
    session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID | None = None
) -> list[Submission]:
    query = select(Submission).where(Submission.stage_id == stage_id)
    if team_id is not None:
        query = query.where(Submission.team_id == team_id)
    return list(await session.scalars(query.order_by(Submission.team_id, Submission.version)))


async def latest_per_team(session: AsyncSession, stage_id: uuid.UUID) -> list[Submission]:
    latest = (
        select(Submission.team_id, func.max(Submission.version).label("version"))
        .where(Submission.stage_id == stage_id)
        .group_by(Submission.team_id)
        .subquery()
    )
    query = (
        select(Submission)
        .join(latest, (Submission.team_id == latest.c.team_id) & (Submission.version == latest.c.version))
        .where(Submission.stage_id == stage_id)
        .order_by(Submission.team_id)
    )
    return list(await session.scalars(query))


async def frozen(session: AsyncSession, stage_id: uuid.UUID) -> list[Submission]:
    query = select(Submission).where(Submission.stage_id == stage_id, Submission.frozen_at.is_not(None))
    return list(await session.scalars(query.order_by(Submission.team_id)))


async def statements(
    session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID | None = None
) -> list[Statement]:
    query = select(Statement).where(Statement.stage_id == stage_id)
    if team_id is not None:
        query = query.where(Statement.team_id == team_id)
    return list(await session.scalars(query.order_by(Statement.submitted_at, Statement.id)))
