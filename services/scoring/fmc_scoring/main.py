"""Composition root of scoring: settings -> runtime (consumers, gRPC) -> FastAPI app."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from fmc_common.clock import Clock, SystemClock
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.app import build_app
from fmc_scoring.models import PLATFORM
from fmc_scoring.participants import consumers as participant_consumers
from fmc_scoring.participants import grpc as participants_grpc
from fmc_scoring.participants.endpoints import router as participants_router
from fmc_scoring.settings import ScoringSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_runtime(settings: ScoringSettings, clock: Clock | None = None) -> ServiceRuntime:
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


def create_app(settings: ScoringSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    return build_app(
        build_runtime(settings, clock),
        title="FMC scoring",
        description=DESCRIPTION,
        routers=[participants_router],
    )


DESCRIPTION = "Grading, expert panel, arena ratings, gates, ranking and confidential publication of results."
