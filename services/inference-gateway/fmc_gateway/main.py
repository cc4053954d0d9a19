"""Composition root of the inference gateway: settings -> runtime (gRPC) -> FastAPI app."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, SystemClock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_gateway.models import PLATFORM
from fmc_gateway.settings import GatewaySettings
from fmc_gateway.triton import grpc as triton_grpc
from fmc_gateway.triton.endpoints import router as triton_router

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_runtime(settings: GatewaySettings, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(
        settings=settings, tables=PLATFORM, migrations_path=MIGRATIONS, clock=clock or SystemClock()
    )
    runtime.grpc_registrar = partial(
        triton_grpc.register, runtime, settings.triton_url, settings.triton_timeout_seconds
    )
    return runtime


def create_app(settings: GatewaySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    return build_app(
        build_runtime(settings, clock),
        title="FMC inference gateway",
        description="Runs benchmark suites on Triton-served models across the H100 and B200 pools.",
        routers=[triton_router],
    )
