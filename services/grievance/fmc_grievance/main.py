"""Composition root of grievance: settings -> runtime (consumers, gRPC) -> FastAPI app."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, SystemClock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_grievance.models import PLATFORM
from fmc_grievance.participants import consumers as participant_consumers
from fmc_grievance.participants import grpc as participants_grpc
from fmc_grievance.participants.endpoints import router as participants_router
from fmc_grievance.settings import GrievanceSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_runtime(settings: GrievanceSettings, clock: Clock | None = None) -> ServiceRuntime:
    clock = clock or SystemClock()
    runtime = ServiceRuntime(
        settings=settings,
        tables=PLATFORM,
        migrations_path=MIGRATIONS,
        clock=clock,
        consumers=[participant_consumers.consumer_spec(clock)],
    )
    runtime.grpc_registrar = partial(participants_grpc.register, runtime)
    return runtime


def create_app(settings: GrievanceSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or GrievanceSettings()
    return build_app(
        build_runtime(settings, clock),
        title="FMC grievance",
        description=DESCRIPTION,
        routers=[participants_router],
    )


DESCRIPTION = "Notifications, objection windows, objections, reviews and decisions."
