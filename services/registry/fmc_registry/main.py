"""Composition root of the registry: settings -> runtime (consumers, gRPC) -> FastAPI app."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, default_clock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_registry import grpc as registry_grpc
from fmc_registry.audit.endpoints import router as audit_router
from fmc_registry.models import PLATFORM
from fmc_registry.organisations.endpoints import router as organisations_router
from fmc_registry.programmes.endpoints import router as programmes_router
from fmc_registry.selection import consumers as selection_consumers
from fmc_registry.selection.endpoints import router as selection_router
from fmc_registry.settings import RegistrySettings
from fmc_registry.stages.endpoints import router as stages_router
from fmc_registry.submissions.endpoints import router as submissions_router
from fmc_registry.support.endpoints import router as support_router
from fmc_registry.teams.endpoints import router as teams_router

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

ROUTERS = (
    teams_router,
    organisations_router,
    programmes_router,
    stages_router,  # after programmes: the published OpenAPI keeps its order of paths
    support_router,
    submissions_router,
    selection_router,
    audit_router,
)


def build_runtime(settings: RegistrySettings, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(
        settings=settings, tables=PLATFORM, migrations_path=MIGRATIONS, clock=clock or default_clock()
    )
    # The consumer writes events through the runtime's outbox, which exists only once it is built.
    runtime.consumers = [selection_consumers.consumer_spec(runtime)]
    runtime.grpc_registrar = partial(registry_grpc.register, runtime)
    return runtime


def create_app(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    return build_app(
        build_runtime(settings, clock),
        title="FMC registry",
        description=DESCRIPTION,
        routers=ROUTERS,
    )


DESCRIPTION = (
    "Programmes and stages, organisations and teams (with their audited status lifecycle), support "
    "allocations in integer won and GPUs, model submissions per team per stage, the start of a stage's "
    "evaluation, and additional selections. Operators manage everything; a team reads its own data and "
    "submits for itself; anyone may read the public list of teams."
)
