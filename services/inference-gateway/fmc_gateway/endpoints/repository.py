from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.inference import RunEndpoint
from fmc_gateway.endpoints.models import Endpoint


async def upsert(
    session: AsyncSession,
    endpoint: RunEndpoint,
    now: datetime,
    *,
    team_id: uuid.UUID | None = None,
    submission_id: uuid.UUID | None = None,
) -> Endpoint:
    """The endpoint row for this address (created on first sight; the pool and owner follow the latest).

    Insert-or-get: two requests naming a new address at the same moment both get the one row (the
    second insert does nothing and waits for the first to commit), never a unique-constraint conflict.
    """
    where = (
        Endpoint.url == endpoint.url,
        Endpoint.protocol == endpoint.protocol,
        Endpoint.model_name == endpoint.model_name,
        Endpoint.model_version == endpoint.model_version,
    )
    found = await session.scalar(select(Endpoint).where(*where))
    if found is None:
        bind = session.get_bind()
        insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(_TABLE)
            .values(
                id=uuid.uuid4(),
                url=endpoint.url,
                protocol=endpoint.protocol,
                model_name=endpoint.model_name,
                model_version=endpoint.model_version,
                gpu_pool=endpoint.gpu_pool,
                convention=endpoint.convention,
                registered_at=now,
            )
            .on_conflict_do_nothing(index_elements=["url", "protocol", "model_name", "model_version"])
        )
        found = (
            await session.scalars(select(Endpoint).where(*where).execution_options(populate_existing=True))
        ).one()
    found.gpu_pool = endpoint.gpu_pool
    found.convention = endpoint.convention
    if team_id is not None:
        found.team_id = team_id
    if submission_id is not None:
        found.submission_id = submission_id
    await session.flush()
    return found


_TABLE = cast(Table, Endpoint.__table__)


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Endpoint]:
    query = select(Endpoint).order_by(Endpoint.id).limit(limit)
    if after is not None:
        query = query.where(Endpoint.id > after)
    return list(await session.scalars(query))


async def get(session: AsyncSession, endpoint_id: uuid.UUID) -> Endpoint:
    found = await session.get(Endpoint, endpoint_id)
    if found is None:
        raise LookupError(f"no endpoint {endpoint_id}")  # a foreign key: a bug, not a caller's mistake
    return found
