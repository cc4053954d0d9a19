"""Session-wide real components (Tansu broker, Triton on the CPU) and per-test databases.

Every test that takes ``database_factory`` runs twice: on SQLite and on PostgreSQL. With
FMC_REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL fails the test instead of skipping it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fmc_common.dev_auth import DevKeys
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.broker import BrokerProcess
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from support.databases import DatabaseFactory, postgres_available
from support.kafka import broker_settings
from support.s3 import S3Server, s3_server

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A real Kafka-protocol broker (Tansu, in memory) on a free port; its bootstrap address."""
    process = BrokerProcess(free_port(), tmp_path_factory.mktemp("broker") / "tansu.log")
    process.start()
    try:
        await process.wait_ready()
        yield process.bootstrap
    finally:
        process.stop()


@pytest.fixture(scope="session")
async def triton(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TritonProcess]:
    """A real Triton server on the CPU serving the demo model repository."""
    process = TritonProcess(free_port(), free_port(), free_port())
    process.start(tmp_path_factory.mktemp("triton") / "triton.log")
    try:
        await process.wait_ready(timeout=120)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """A real S3-compatible server (moto's server mode) on a free port; each test makes its own bucket."""
    with s3_server() as server:
        yield server


@pytest.fixture(params=BACKENDS)
async def database_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        message = "PostgreSQL is not reachable (TEST_DATABASE_URL or 127.0.0.1:5432)"
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    factory = DatabaseFactory(backend, tmp_path)
    try:
        yield factory
    finally:
        await factory.drop_all()


@pytest.fixture(scope="session")
def auth_settings() -> AuthSettings:
    """Keys made for this session; every in-process service shares the one service key ("tests")."""
    return DevKeys.generate(["tests"]).settings()


@pytest.fixture
def kafka_settings(broker: str) -> KafkaSettings:
    return broker_settings(broker)


@pytest.fixture(autouse=True)
def _no_ambient_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build settings explicitly; an ambient FMC_* variable must not leak in."""
    for name in list(os.environ):
        if name.startswith("FMC_") and name != "FMC_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)
    return
