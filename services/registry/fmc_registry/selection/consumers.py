"""Kafka handlers of the registry: thin adapters over the selection service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.scoring import StageFinalized, StageReopened, StageResultsPublished
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.context import context_for
from fmc_registry.deps import RegistryCtx, service_actor
from fmc_registry.selection import service
from fmc_registry.settings import RegistrySettings


def consumer_spec(runtime: ServiceRuntime) -> ConsumerSpec:
    def ctx(session: AsyncSession) -> RegistryCtx:
        # Scoring's results change team and stage statuses: the audit trail names scoring as the actor.
        return context_for(runtime, session, service_actor("scoring"), RegistrySettings)

    async def on_stage_finalized(session: AsyncSession, envelope: Envelope, event: StageFinalized) -> None:
        await service.on_stage_finalized(ctx(session), event)

    async def on_results_published(
        session: AsyncSession, envelope: Envelope, event: StageResultsPublished
    ) -> None:
        await service.on_results_published(ctx(session), event)

    async def on_stage_reopened(session: AsyncSession, envelope: Envelope, event: StageReopened) -> None:
        await service.on_stage_reopened(ctx(session), event)

    handlers: dict[type, Handler] = {
        StageFinalized: on_stage_finalized,
        StageResultsPublished: on_results_published,
        StageReopened: on_stage_reopened,
    }
    return ConsumerSpec(name="registry.stage-results", topics=[Topic.SCORING], handlers=handlers)
