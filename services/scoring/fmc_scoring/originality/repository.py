"""Every query of the originality check."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.originality.models import DonorModel, DonorTensor, OriginalityCheck
from fmc_scoring.planning.models import EvaluatedSubmission


async def donor_by_name(session: AsyncSession, name: str, revision: str) -> DonorModel | None:
    query = select(DonorModel).where(DonorModel.name == name, DonorModel.revision == revision)
    return await session.scalar(query)


async def get_donor(session: AsyncSession, donor_id: uuid.UUID, lock: bool = False) -> DonorModel | None:
    return await session.get(DonorModel, donor_id, with_for_update=lock)


async def donors_page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[DonorModel]:
    query = select(DonorModel).order_by(DonorModel.id).limit(limit)
    if after is not None:
        query = query.where(DonorModel.id > after)
    return list(await session.scalars(query))


async def active_donors(session: AsyncSession) -> list[DonorModel]:
    """The reference library a check compares with: every donor not retired."""
    query = select(DonorModel).where(DonorModel.retired_at.is_(None))
    return list(await session.scalars(query.order_by(DonorModel.name, DonorModel.revision)))


async def donor_tensors(session: AsyncSession, donor_id: uuid.UUID) -> list[DonorTensor]:
    query = select(DonorTensor).where(DonorTensor.donor_id == donor_id).order_by(DonorTensor.name)
    return list(await session.scalars(query))


async def get_check(session: AsyncSession, check_id: uuid.UUID) -> OriginalityCheck | None:
    return await session.get(OriginalityCheck, check_id)


async def checks_page(
    session: AsyncSession, team_id: uuid.UUID | None, after: uuid.UUID | None, limit: int
) -> list[OriginalityCheck]:
    query = select(OriginalityCheck).order_by(OriginalityCheck.id).limit(limit)
    if team_id is not None:
        query = query.where(OriginalityCheck.team_id == team_id)
    if after is not None:
        query = query.where(OriginalityCheck.id > after)
    return list(await session.scalars(query))


async def frozen_submission(
    session: AsyncSession, stage_id: uuid.UUID, submission_id: uuid.UUID
) -> EvaluatedSubmission | None:
    """The submission as frozen when the stage's evaluation started (planning's record), if it was."""
    query = select(EvaluatedSubmission).where(
        EvaluatedSubmission.stage_id == stage_id, EvaluatedSubmission.submission_id == submission_id
    )
    # Locked: two checks of one submission at the same moment queue, so the second is a re-check.
    return await session.scalar(query.with_for_update())


async def latest_check(
    session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID
) -> OriginalityCheck | None:
    """The check that decides the team's originality in the stage (as ``results.originality_gate`` reads)."""
    query = (
        select(OriginalityCheck)
        .where(OriginalityCheck.stage_id == stage_id, OriginalityCheck.team_id == team_id)
        .order_by(OriginalityCheck.created_at.desc(), OriginalityCheck.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


def add(session: AsyncSession, row: DonorModel | DonorTensor | OriginalityCheck) -> None:
    session.add(row)
