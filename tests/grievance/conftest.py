"""Grievance fixtures: the real service on both database backends, the real broker, a manual clock.

Starting a service costs seconds (its consumers join their groups on the broker), so most tests
share one running service per backend, each test on its own stage and teams (as the
style guide's "a database per worker" suggests). Tests that restart the service or tamper with its
database get a ``deployment`` of their own.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from fmc_common.clock import ManualClock
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_grievance.settings import GrievanceSettings
from grievance.harness import NOTIFIED_AT, Grievance, GrievanceDeployment
from support.databases import DatabaseFactory, postgres_available
from support.kafka import broker_settings

BACKENDS = ["sqlite", "postgres"]


def grievance_settings(database_url: str, broker: str, auth: AuthSettings) -> GrievanceSettings:
    return GrievanceSettings(
        database_url=database_url,
        kafka=broker_settings(broker),
        auth=auth,
        grpc_port=free_port(),
        closing_poll_interval_seconds=0.05,
        shutdown_grace_seconds=5,
    )


@pytest.fixture
async def deployment(
    database_factory: DatabaseFactory, broker: str, auth_settings: AuthSettings
) -> GrievanceDeployment:
    """A database and a clock of the test's own, for services it starts (and restarts) itself."""
    url = await database_factory.create("grievance")
    return GrievanceDeployment(
        grievance_settings(url, broker, auth_settings), ManualClock(NOTIFIED_AT), auth_settings
    )


@pytest.fixture(scope="session", params=BACKENDS)
async def shared_service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    broker: str,
    auth_settings: AuthSettings,
) -> AsyncIterator[Grievance]:
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        message = "PostgreSQL is not reachable (TEST_DATABASE_URL or 127.0.0.1:5432)"
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    databases = DatabaseFactory(backend, tmp_path_factory.mktemp("grievance"))
    try:
        url = await databases.create("grievance")
        deployment = GrievanceDeployment(
            grievance_settings(url, broker, auth_settings), ManualClock(NOTIFIED_AT), auth_settings
        )
        async with deployment.running() as service:
            yield service
    finally:
        await databases.drop_all()


@pytest.fixture
def grievance(shared_service: Grievance) -> Grievance:
    """The shared running service, seen from a new stage, with the clock back at the notification time."""
    shared_service.clock.set(NOTIFIED_AT)
    return shared_service.for_new_stage()
