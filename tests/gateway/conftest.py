"""Gateway fixtures: settings tuned for fast tests (short leases, quick flushes) on real parts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.clock import Clock
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.main import create_app
from fmc_gateway.settings import GatewaySettings
from support.databases import DatabaseFactory
from support.services import serving

FAST: dict[str, Any] = {
    "intake_enabled": False,
    "claim_interval_seconds": 0.05,
    "record_flush_seconds": 0.05,
    "chunk_lease_seconds": 3.0,
    "watchdog_interval_seconds": 0.2,
    "breaker_reset_seconds": 0.3,
    "retry_base_seconds": 0.02,
    "retry_max_seconds": 0.3,
    "readiness_retry_seconds": 0.3,
    "readiness_timeout_seconds": 5.0,
    "shutdown_grace_seconds": 5.0,
}

SettingsFactory = Callable[..., GatewaySettings]


@pytest.fixture(scope="session")
def nowhere() -> str:
    """An address a gateway is allowed to connect to where nobody answers (an outage, a dead server)."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture
def gateway_settings(
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    tmp_path: Path,
    triton: TritonProcess,
    nowhere: str,
) -> SettingsFactory:
    """GatewaySettings on a given database, with fast timings; keyword arguments override.

    The gateway may connect to the session's Triton (gRPC and HTTP) and to ``nowhere``; a test of its
    own Triton names that one in ``triton_url``."""

    def make(database_url: str, **overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka": kafka_settings,
            "auth": auth_settings,
            "grpc_port": free_port(),
            "items_directory": tmp_path,
            "triton_allowed_hosts": [triton.grpc_url, triton.http_url, nowhere],
        }
        return GatewaySettings(**(values | FAST | overrides))

    return make


@pytest.fixture
async def gateway_factory() -> AsyncIterator[Callable[..., Any]]:
    """Start gateways (real lifespan) that are stopped at the end of the test."""
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:

        async def start(settings: GatewaySettings, clock: Clock | None = None) -> httpx.AsyncClient:
            return await stack.enter_async_context(serving(create_app(settings, clock)))

        yield start


@pytest.fixture
async def gateway(
    database_factory: DatabaseFactory,
    gateway_settings: SettingsFactory,
    gateway_factory: Callable[..., Any],
    triton: TritonProcess,
) -> httpx.AsyncClient:
    """One gateway on a fresh database (SQLite and PostgreSQL), talking to the session's Triton."""
    client: httpx.AsyncClient = await gateway_factory(
        gateway_settings(await database_factory.create("gateway"))
    )
    return client
