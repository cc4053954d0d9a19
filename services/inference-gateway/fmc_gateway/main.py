"""Composition root of the gateway: settings -> runtime (consumers, gRPC) -> engine -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, default_clock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_gateway import consumers, grpc
from fmc_gateway.arena.endpoints import router as arena_router
from fmc_gateway.arena.service import ArenaModels
from fmc_gateway.endpoints.endpoints import router as endpoints_router
from fmc_gateway.models import PLATFORM
from fmc_gateway.pools.endpoints import router as pools_router
from fmc_gateway.runs.endpoints import router as runs_router
from fmc_gateway.runs.engine import GatewayEngine
from fmc_gateway.settings import GatewaySettings
from fmc_gateway.triton.endpoints import router as triton_router

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_runtime(
    settings: GatewaySettings, clock: Clock | None = None
) -> tuple[ServiceRuntime, GatewayEngine]:
    runtime = ServiceRuntime(
        settings=settings, tables=PLATFORM, migrations_path=MIGRATIONS, clock=clock or default_clock()
    )
    engine = GatewayEngine(runtime, settings)
    if settings.intake_enabled:
        runtime.consumers = [
            consumers.intake(
                runtime, settings.pool_hardware, engine.sources, engine.triton_hosts, engine.notify
            )
        ]
    runtime.grpc_registrar = partial(
        grpc.register, runtime, settings.triton_url, settings.triton_timeout_seconds
    )
    return runtime, engine


def create_app(settings: GatewaySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime, engine = build_runtime(settings, clock)
    app = build_app(
        runtime,
        title="FMC inference gateway",
        description="Runs benchmark suites on Triton-served models across the H100 and B200 pools.",
        routers=[runs_router, pools_router, endpoints_router, arena_router, triton_router],
    )
    arena = ArenaModels(
        engine.triton_hosts, settings.readiness_timeout_seconds, engine.triton_pods, engine.models
    )
    runtime.provide(engine)
    runtime.provide(engine.triton_hosts)
    runtime.provide(arena)
    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The engine runs inside the runtime: it needs the database and the relay, and it stops first.
        async with runtime_lifespan(app):
            await engine.start()
            try:
                yield
            finally:
                await engine.stop()
                await arena.close()

    app.router.lifespan_context = lifespan
    return app
