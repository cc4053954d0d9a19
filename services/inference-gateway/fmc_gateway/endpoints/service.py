"""Known Triton endpoints: registered from submissions and run requests, read by the API and the runs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.inference import DecodingParameters, RunEndpoint
from fmc_common.events.registry import SubmissionRegistered
from fmc_gateway.endpoints import repository
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.endpoints.readiness import Readiness, check_endpoint
from fmc_gateway.triton.hosts import TritonHosts
from fmc_gateway.triton.inference import EndpointAddress
from fmc_gateway.triton.repository import control_model

# Loading a model takes longer than answering a readiness check.
LOAD_TIMEOUT_FACTOR = 6


async def register(
    session: AsyncSession,
    hosts: TritonHosts,
    endpoint: RunEndpoint,
    now: datetime,
    *,
    team_id: uuid.UUID | None = None,
    submission_id: uuid.UUID | None = None,
) -> Endpoint:
    """The endpoint row for this address (created on first sight; the pool and owner follow the latest).

    An address outside the configured Triton servers is refused (``uri-not-allowed``) before anything
    is recorded: no run and no arena battle can reach it later.
    """
    hosts.check(endpoint.url)
    return await repository.upsert(session, endpoint, now, team_id=team_id, submission_id=submission_id)


async def register_submission(
    session: AsyncSession, hosts: TritonHosts, event: SubmissionRegistered, now: datetime
) -> Endpoint:
    """A submission's endpoint, in the registry's spelling (any case), becomes a known endpoint."""
    raw = event.endpoint
    endpoint = RunEndpoint(
        url=raw.url,
        model_name=raw.model_name,
        model_version=raw.model_version,
        protocol=raw.protocol.lower(),
        gpu_pool=raw.gpu_pool.upper(),
        convention=raw.convention.lower(),
    )
    return await register(
        session, hosts, endpoint, now, team_id=event.team_id, submission_id=event.submission_id
    )


async def get(session: AsyncSession, endpoint_id: uuid.UUID) -> Endpoint:
    """An endpoint known to exist (a run's foreign key)."""
    return await repository.get(session, endpoint_id)


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Endpoint]:
    return await repository.page(session, after, limit)


async def check(
    hosts: TritonHosts, address: EndpointAddress, decoding: DecodingParameters | None, timeout: float
) -> Readiness:
    """The readiness check every run makes before its first item, on demand (configured servers only)."""
    hosts.check(address.url)
    return await check_endpoint(address, decoding, timeout)


async def load(
    hosts: TritonHosts, address: EndpointAddress, decoding: DecodingParameters | None, timeout: float
) -> Readiness:
    """Have the endpoint's Triton load (or reload) the model, then check it (configured servers only)."""
    hosts.check(address.url)
    await control_model(address, True, timeout * LOAD_TIMEOUT_FACTOR)
    return await check_endpoint(address, decoding, timeout)


async def unload(hosts: TritonHosts, address: EndpointAddress, timeout: float) -> None:
    """Have the endpoint's Triton unload the model (configured servers only); runs on it wait for it."""
    hosts.check(address.url)
    await control_model(address, False, timeout * LOAD_TIMEOUT_FACTOR)
