"""Composition root of scoring: settings -> runtime (consumers, gRPC) -> FastAPI app."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import httpx
from fastapi import FastAPI

from fmc_common.clock import Clock, default_clock
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.app import build_app
from fmc_scoring import grpc as scoring_grpc
from fmc_scoring.arena.aliases import router as arena_aliases_router
from fmc_scoring.arena.endpoints import router as arena_router
from fmc_scoring.arena.gateway import ArenaGateway
from fmc_scoring.arena.public import router as arena_public_router
from fmc_scoring.artefacts import ScoringArtefacts
from fmc_scoring.audit.endpoints import router as audit_router
from fmc_scoring.criteria.endpoints import router as criteria_router
from fmc_scoring.experts.endpoints import router as experts_router
from fmc_scoring.grading import consumers as grading_consumers
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.judging.endpoints import router as judging_router
from fmc_scoring.models import PLATFORM
from fmc_scoring.originality.endpoints import router as originality_router
from fmc_scoring.originality.registry import RegistrySubmissions
from fmc_scoring.participants import consumers as participant_consumers
from fmc_scoring.participants.endpoints import router as participants_router
from fmc_scoring.planning import consumers as planning_consumers
from fmc_scoring.planning.endpoints import router as planning_router
from fmc_scoring.results import consumers as results_consumers
from fmc_scoring.results.endpoints import router as results_router
from fmc_scoring.results.originality_gate import LatestCheckVerdicts
from fmc_scoring.settings import ScoringSettings
from fmc_scoring.suites.endpoints import router as suites_router

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_runtime(
    settings: ScoringSettings,
    clock: Clock | None = None,
    gateway_transport: httpx.AsyncBaseTransport | None = None,
    registry_transport: httpx.AsyncBaseTransport | None = None,
) -> ServiceRuntime:
    clock = clock or default_clock()
    runtime = ServiceRuntime(
        settings=settings,
        tables=PLATFORM,
        migrations_path=MIGRATIONS,
        clock=clock,
        consumers=[participant_consumers.consumer_spec(clock)],
    )
    runtime.consumers = [*runtime.consumers, _evaluation_consumer(runtime, settings, gateway_transport)]
    runtime.grpc_registrar = partial(scoring_grpc.register, runtime)
    runtime.provide(
        ArenaGateway(
            settings.gateway_url,
            runtime.service_tokens.source(settings.gateway_audience),
            settings.gateway_timeout_seconds,
            gateway_transport,
        )
    )
    runtime.provide(ScoringArtefacts.from_settings(settings))
    runtime.provide(
        RegistrySubmissions(
            settings.registry_url,
            runtime.service_tokens.source(settings.registry_audience),
            settings.registry_timeout_seconds,
            registry_transport,
        )
    )
    return runtime


def _evaluation_consumer(
    runtime: ServiceRuntime, settings: ScoringSettings, transport: httpx.AsyncBaseTransport | None
) -> ConsumerSpec:
    """Planning, grading and results handlers in one consumer group: every group costs seconds of
    join time at start-up, and these handlers are each short and idempotent."""
    gateway = GatewayClient(
        settings.gateway_url,
        runtime.service_tokens.source(settings.gateway_audience),
        settings.gateway_timeout_seconds,
        transport,
    )
    specs = [
        planning_consumers.consumer_spec(runtime, settings.items_base_url),
        grading_consumers.consumer_spec(
            runtime, gateway, settings.grading_bootstrap_rounds, settings.items_base_url
        ),
        results_consumers.consumer_spec(
            runtime,
            LatestCheckVerdicts(),
            settings.arena_bootstrap_rounds,
            settings.grading_bootstrap_rounds,
        ),
    ]
    return ConsumerSpec(
        name="scoring.evaluation",
        topics=[topic for spec in specs for topic in spec.topics],
        handlers={event: handler for spec in specs for event, handler in spec.handlers.items()},
    )


def create_app(
    settings: ScoringSettings | None = None,
    clock: Clock | None = None,
    gateway_transport: httpx.AsyncBaseTransport | None = None,
    registry_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``gateway_transport`` and ``registry_transport`` reach the gateway and the registry without a
    socket (in-process services in tests)."""
    settings = settings or ScoringSettings()
    return build_app(
        build_runtime(settings, clock, gateway_transport, registry_transport),
        title="FMC scoring",
        description=DESCRIPTION,
        routers=[
            participants_router,
            originality_router,
            suites_router,
            criteria_router,
            planning_router,
            judging_router,
            experts_router,
            arena_router,
            arena_aliases_router,
            arena_public_router,
            results_router,
            audit_router,
        ],
    )


DESCRIPTION = "Grading, expert panel, arena ratings, gates, ranking and confidential publication of results."
