"""Kafka: SubmissionRegistered (registry) -> a known endpoint."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import SubmissionRegistered
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ServiceRuntime
from fmc_gateway.endpoints import service


def submission_registered(runtime: ServiceRuntime) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, event: SubmissionRegistered) -> None:
        await service.register_submission(session, event, runtime.clock.now())

    return handle
