from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.lifecycle import TeamStatus
from fmc_registry.organisations.models import Organisation
from fmc_registry.teams.models import Team, TeamMember


async def get(session: AsyncSession, team_id: uuid.UUID, *, lock: bool = False) -> Team | None:
    """The team; with ``lock``, its row held (FOR UPDATE) until the transaction ends."""
    return await session.get(Team, team_id, with_for_update=lock)


async def get_by_name(session: AsyncSession, name: str) -> Team | None:
    return await session.scalar(select(Team).where(Team.name == name))


async def page(
    session: AsyncSession,
    after: uuid.UUID | None,
    limit: int,
    *,
    programme_id: uuid.UUID | None = None,
    statuses: list[TeamStatus] | None = None,
) -> list[Team]:
    query = select(Team).order_by(Team.id).limit(limit)
    if after is not None:
        query = query.where(Team.id > after)
    if programme_id is not None:
        query = query.where(Team.programme_id == programme_id)
    if statuses is not None:
        query = query.where(Team.status.in_(statuses))
    return list(await session.scalars(query))


async def of_programme(session: AsyncSession, programme_id: uuid.UUID) -> list[Team]:
    query = select(Team).where(Team.programme_id == programme_id).order_by(Team.name)
    return list(await session.scalars(query))


async def joining_stage(session: AsyncSession, programme_id: uuid.UUID, number: int) -> list[Team]:
    """Teams that enter stage ``number`` when it opens: selected ones, and those advanced from the last."""
    query = (
        select(Team)
        .where(
            Team.programme_id == programme_id,
            or_(
                Team.status == TeamStatus.SELECTED,
                and_(Team.status == TeamStatus.ADVANCED, Team.stage_number == number - 1),
            ),
        )
        .order_by(Team.name)
    )
    return list(await session.scalars(query))


async def members(session: AsyncSession, team_id: uuid.UUID) -> list[tuple[TeamMember, Organisation]]:
    query = (
        select(TeamMember, Organisation)
        .join(Organisation, Organisation.id == TeamMember.organisation_id)
        .where(TeamMember.team_id == team_id)
        .order_by(TeamMember.role, Organisation.name)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


def add(session: AsyncSession, team: Team) -> None:
    session.add(team)
