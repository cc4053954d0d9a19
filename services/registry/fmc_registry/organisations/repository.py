from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.organisations.models import Organisation, OrganisationRole, ProgrammeRole


async def get(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def get_by_name(session: AsyncSession, name: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.name == name))


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.id).limit(limit)
    if after is not None:
        query = query.where(Organisation.id > after)
    return list(await session.scalars(query))


async def roles_of(session: AsyncSession, organisation_id: uuid.UUID) -> list[OrganisationRole]:
    query = select(OrganisationRole).where(OrganisationRole.organisation_id == organisation_id)
    return list(await session.scalars(query.order_by(OrganisationRole.programme_id, OrganisationRole.role)))


async def role(
    session: AsyncSession, programme_id: uuid.UUID, organisation_id: uuid.UUID, role: ProgrammeRole
) -> OrganisationRole | None:
    return await session.get(OrganisationRole, (programme_id, organisation_id, role))
