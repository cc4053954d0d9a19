from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.runs.models import ItemRecord, Run, RunStatus


async def page_runs(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    limit: int,
    stage_id: uuid.UUID | None = None,
    status: RunStatus | None = None,
    team_id: uuid.UUID | None = None,
) -> list[tuple[Run, Endpoint]]:
    query = select(Run, Endpoint).join(Endpoint, Endpoint.id == Run.endpoint_id).order_by(Run.id).limit(limit)
    if after is not None:
        query = query.where(Run.id > after)
    if stage_id is not None:
        query = query.where(Run.stage_id == stage_id)
    if status is not None:
        query = query.where(Run.status == status)
    if team_id is not None:
        query = query.where(Run.team_id == team_id)
    return [(run, endpoint) for run, endpoint in (await session.execute(query)).tuples()]


async def page_responses(
    session: AsyncSession, run_id: uuid.UUID, after_seq: int, limit: int
) -> list[ItemRecord]:
    return list(
        await session.scalars(
            select(ItemRecord)
            .where(ItemRecord.run_id == run_id, ItemRecord.seq > after_seq)
            .order_by(ItemRecord.seq)
            .limit(limit)
        )
    )
