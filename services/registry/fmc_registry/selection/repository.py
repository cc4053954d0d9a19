from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.lifecycle import TeamStatus
from fmc_registry.selection.models import SelectionApplication, SelectionCall, SelectionEligibility
from fmc_registry.teams.models import Team


async def call(session: AsyncSession, call_id: uuid.UUID, *, lock: bool = False) -> SelectionCall | None:
    query = select(SelectionCall).where(SelectionCall.id == call_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def call_of_stage(
    session: AsyncSession, stage_id: uuid.UUID, *, lock: bool = False
) -> SelectionCall | None:
    """The stage's call for vacancies, if one opened (at most one per stage)."""
    query = select(SelectionCall).where(SelectionCall.stage_id == stage_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def calls_of(session: AsyncSession, programme_id: uuid.UUID) -> list[SelectionCall]:
    query = select(SelectionCall).where(SelectionCall.programme_id == programme_id)
    return list(await session.scalars(query.order_by(SelectionCall.opened_at)))


async def eligibility(session: AsyncSession, call_id: uuid.UUID) -> list[SelectionEligibility]:
    query = select(SelectionEligibility).where(SelectionEligibility.call_id == call_id)
    return list(await session.scalars(query.order_by(SelectionEligibility.team_id)))


async def applications(session: AsyncSession, call_id: uuid.UUID) -> list[SelectionApplication]:
    query = select(SelectionApplication).where(SelectionApplication.call_id == call_id)
    return list(await session.scalars(query.order_by(SelectionApplication.applied_at)))


async def application(
    session: AsyncSession, call_id: uuid.UUID, team_id: uuid.UUID
) -> SelectionApplication | None:
    return await session.get(SelectionApplication, (call_id, team_id))


async def preliminary_review_applicants(session: AsyncSession, programme_id: uuid.UUID) -> list[Team]:
    """Preliminary-review consortia that are not (or no longer) in the competition."""
    query = select(Team).where(
        Team.programme_id == programme_id,
        Team.preliminary_review.is_(True),
        Team.status == TeamStatus.APPLICANT,
    )
    return list(await session.scalars(query.order_by(Team.id)))


async def eliminated_in(session: AsyncSession, programme_id: uuid.UUID, stage_number: int) -> list[Team]:
    query = select(Team).where(
        Team.programme_id == programme_id,
        Team.status == TeamStatus.ELIMINATED,
        Team.stage_number == stage_number,
    )
    return list(await session.scalars(query.order_by(Team.id)))
