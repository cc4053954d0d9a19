"""Composition root of the registry: settings -> runtime -> FastAPI app (with gRPC inside its lifespan)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, SystemClock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_registry.models import PLATFORM
from fmc_registry.settings import RegistrySettings
from fmc_registry.teams import grpc as teams_grpc
from fmc_registry.teams.endpoints import router as teams_router

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_runtime(settings: RegistrySettings, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(
        settings=settings, tables=PLATFORM, migrations_path=MIGRATIONS, clock=clock or SystemClock()
    )
    runtime.grpc_registrar = partial(teams_grpc.register, runtime)
    return runtime


def create_app(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    return build_app(
        build_runtime(settings, clock),
        title="FMC registry",
        description="Programmes, stages, teams, support allocations and model submissions.",
        routers=[teams_router],
    )
