"""A registry service per test module and backend (its real lifespan: migrations, broker, relay,
consumers, gRPC), plus small factories. Tests create their own programme, so they never share data."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_registry.main import create_app
from fmc_registry.settings import RegistrySettings
from registry.harness import Registry
from support.databases import DatabaseFactory, postgres_available
from support.kafka import broker_settings
from support.services import serving


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def registry(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Registry]:
    """One service per module and backend: starting one per test would dominate the suite's time."""
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    factory = DatabaseFactory(backend, Path(tmp_path_factory.mktemp("registry")))
    url = await factory.create("registry")
    port = free_port()
    settings = RegistrySettings(
        database_url=url,
        kafka=broker_settings(broker),
        auth=auth_settings,
        grpc_port=port,
        relay_poll_interval_seconds=0.05,
    )
    app = create_app(settings)
    if not getattr(request.module, "REGISTRY_CONSUMERS", False):
        # Joining a consumer group costs seconds on Tansu (half the session timeout): only the
        # modules that test what the registry consumes (REGISTRY_CONSUMERS = True) pay for it.
        app.state.runtime.consumers = []
    try:
        async with serving(app) as client:
            yield Registry(
                client=client, app=app, auth=auth_settings, grpc_port=port, database_url=url, bootstrap=broker
            )
    finally:
        await factory.drop_all()
