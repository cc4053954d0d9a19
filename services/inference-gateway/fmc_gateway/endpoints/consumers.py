"""Kafka: SubmissionRegistered (registry) -> a known endpoint."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import SubmissionRegistered
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ServiceRuntime
from fmc_gateway.endpoints import service
from fmc_gateway.triton.hosts import TritonHosts


def submission_registered(runtime: ServiceRuntime, hosts: TritonHosts) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, event: SubmissionRegistered) -> None:
        # An endpoint on none of the configured Triton servers (TritonHostNotAllowed, a 422) is
        # dead-lettered by the runner as handler-rejected.
        await service.register_submission(session, hosts, event, runtime.clock.now())

    return handle
