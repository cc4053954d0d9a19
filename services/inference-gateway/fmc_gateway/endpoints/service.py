"""Known Triton endpoints: registered from submissions and run requests, read by the API and the runs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.inference import RunEndpoint
from fmc_common.events.registry import SubmissionRegistered
from fmc_gateway.endpoints import repository
from fmc_gateway.endpoints.models import Endpoint


async def register(
    session: AsyncSession,
    endpoint: RunEndpoint,
    now: datetime,
    *,
    team_id: uuid.UUID | None = None,
    submission_id: uuid.UUID | None = None,
) -> Endpoint:
    """The endpoint row for this address (created on first sight; the pool and owner follow the latest)."""
    return await repository.upsert(session, endpoint, now, team_id=team_id, submission_id=submission_id)


async def register_submission(session: AsyncSession, event: SubmissionRegistered, now: datetime) -> Endpoint:
    """A submission's endpoint, in the registry's spelling (any case), becomes a known endpoint."""
    raw = event.endpoint
    endpoint = RunEndpoint(
        url=raw.url,
        model_name=raw.model_name,
        model_version=raw.model_version,
        protocol=raw.protocol.lower(),
        gpu_pool=raw.gpu_pool.upper(),
    )
    return await register(session, endpoint, now, team_id=event.team_id, submission_id=event.submission_id)


async def get(session: AsyncSession, endpoint_id: uuid.UUID) -> Endpoint:
    """An endpoint known to exist (a run's foreign key)."""
    return await repository.get(session, endpoint_id)


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Endpoint]:
    return await repository.page(session, after, limit)
