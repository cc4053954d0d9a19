"""Composition root of grievance: settings -> runtime (consumers, gRPC, closing scheduler, audit
checkpoints) -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, default_clock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_grievance import grpc as grievance_grpc
from fmc_grievance.audit.checkpoints import AuditCheckpointer
from fmc_grievance.audit.endpoints import router as audit_router
from fmc_grievance.closing.endpoints import router as closing_router
from fmc_grievance.closing.scheduler import ClosingScheduler
from fmc_grievance.models import PLATFORM
from fmc_grievance.notifications import consumers as notification_consumers
from fmc_grievance.notifications.endpoints import router as notifications_router
from fmc_grievance.objections.endpoints import history_router as objection_history_router
from fmc_grievance.objections.endpoints import router as objections_router
from fmc_grievance.participants import consumers as participant_consumers
from fmc_grievance.participants.endpoints import router as participants_router
from fmc_grievance.settings import GrievanceSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

ROUTERS = (
    participants_router,
    notifications_router,
    objections_router,
    closing_router,
    audit_router,
    objection_history_router,
)


def build_runtime(settings: GrievanceSettings, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(
        settings=settings, tables=PLATFORM, migrations_path=MIGRATIONS, clock=clock or default_clock()
    )
    # The consumers write through the runtime's outbox, which exists only once the runtime is built.
    runtime.consumers = [
        participant_consumers.consumer_spec(runtime.clock),
        notification_consumers.consumer_spec(runtime),
    ]
    runtime.grpc_registrar = partial(grievance_grpc.register, runtime)
    return runtime


def create_app(settings: GrievanceSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or GrievanceSettings()
    runtime = build_runtime(settings, clock)
    app = build_app(runtime, title="FMC grievance", description=DESCRIPTION, routers=ROUTERS)
    scheduler = ClosingScheduler(runtime, settings.closing_poll_interval_seconds)
    runtime.provide(scheduler)
    checkpointer = AuditCheckpointer(runtime, settings)
    runtime.provide(checkpointer)
    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The loops run only while the runtime does: after migrations, stopped before the engine.
        async with runtime_lifespan(app):
            scheduler.start()
            checkpointer.start()
            try:
                yield
            finally:
                await checkpointer.stop()
                await scheduler.stop()

    app.router.lifespan_context = lifespan
    return app


DESCRIPTION = (
    "Notifications of decisions (published stage results, selection decisions), each team's objection "
    "window (until the end of the 10th day after the day of notification, in Asia/Seoul; a per-stage "
    "setting), objections with attachments and every amendment kept, review and decisions with written "
    "reasons, re-evaluation requests, the closing of windows at their deadlines, and a hash-chained, "
    "verifiable audit trail. A team files and reads only its own objections; operators review, decide "
    "and read all; the public sees nothing."
)
