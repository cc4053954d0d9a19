"""Scoring with its real lifespan (migrations, broker, relay, consumers, gRPC), beside a real
inference gateway that it reaches in-process (responses, arena), one pair per backend for the
scoring package: tests create their own stage, so they never share data.

Package scope, not session: another package's tests start services with the same consumer group
names, and a live instance of ours would take partitions from them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.main import create_app as create_gateway
from fmc_gateway.settings import GatewaySettings
from fmc_scoring.main import create_app
from fmc_scoring.settings import ScoringSettings
from scoring.harness import Scoring
from support.databases import DatabaseFactory, postgres_available
from support.kafka import broker_settings
from support.services import serving

GATEWAY_FAST: dict[str, Any] = {
    "intake_enabled": False,  # runs are requested over REST in these tests
    "claim_interval_seconds": 0.05,
    "record_flush_seconds": 0.05,
    "retry_base_seconds": 0.02,
    "retry_max_seconds": 0.3,
    "readiness_retry_seconds": 0.3,
    "readiness_timeout_seconds": 5.0,
    "shutdown_grace_seconds": 5.0,
}


@pytest.fixture(scope="package", params=["sqlite", "postgres"])
async def scoring(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    triton: TritonProcess,
) -> AsyncIterator[Scoring]:
    """Starting a service takes seconds (consumer groups join): one per backend, tests isolate by stage."""
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    factory = DatabaseFactory(backend, Path(tmp_path_factory.mktemp("scoring")))
    kafka = broker_settings(broker)
    items = tmp_path_factory.mktemp("items")
    gateway_app = create_gateway(
        GatewaySettings(
            database_url=await factory.create("gateway"),
            kafka=kafka,
            auth=auth_settings,
            grpc_port=free_port(),
            items_directory=items,
            # The session's Triton, besides triton_url (127.0.0.1:8001: the harness's DEMO_ENDPOINT).
            triton_allowed_hosts=[triton.grpc_url, triton.http_url],
            **GATEWAY_FAST,
        )
    )
    port = free_port()
    settings = ScoringSettings(
        database_url=await factory.create("scoring"),
        kafka=kafka,
        auth=auth_settings,
        grpc_port=port,
        relay_poll_interval_seconds=0.05,
        suites_directory=tmp_path_factory.mktemp("suites"),
        arena_bootstrap_rounds=200,
        grading_bootstrap_rounds=500,
        gateway_url="http://gateway",
    )
    app = create_app(settings, gateway_transport=httpx.ASGITransport(app=gateway_app))
    try:
        async with serving(gateway_app) as gateway, serving(app) as client:
            yield Scoring(
                client=client,
                app=app,
                auth=auth_settings,
                grpc_port=port,
                bootstrap=broker,
                gateway=gateway,
                items=items,
            )
    finally:
        await factory.drop_all()
