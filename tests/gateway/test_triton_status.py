"""The gateway reports the health and version of a real Triton server (REST and gRPC)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.main import create_app
from fmc_gateway.settings import GatewaySettings
from fmc_protos.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from support.databases import DatabaseFactory
from support.services import bearer, serving

pytestmark = [pytest.mark.broker, pytest.mark.triton]


@pytest.fixture
async def gateway(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    triton: TritonProcess,
) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    grpc_port = free_port()
    settings = GatewaySettings(
        database_url=await database_factory.create("gateway"),
        kafka=kafka_settings,
        auth=auth_settings,
        grpc_port=grpc_port,
        triton_url=triton.grpc_url,
        intake_enabled=False,
    )
    async with serving(create_app(settings)) as client:
        yield client, grpc_port


class TestTritonStatus:
    async def test_rest_reports_live_ready_version_and_the_demo_model(
        self, gateway: tuple[httpx.AsyncClient, int], auth_settings: AuthSettings
    ) -> None:
        client, _ = gateway
        response = await client.get("/v1/triton/status", headers=bearer(auth_settings, Role.OPERATOR))
        assert response.status_code == 200, response.text
        status = response.json()
        assert status["live"] is True
        assert status["ready"] is True
        assert status["server_version"].startswith("2.")
        assert {"name": "demo-lm", "version": "1", "state": "READY"} in status["models"]

    async def test_a_team_may_not_read_it(
        self, gateway: tuple[httpx.AsyncClient, int], auth_settings: AuthSettings
    ) -> None:
        client, _ = gateway
        response = await client.get(
            "/v1/triton/status", headers=bearer(auth_settings, Role.TEAM, uuid.uuid4())
        )
        assert response.status_code == 403

    async def test_grpc_reports_the_same(
        self, gateway: tuple[httpx.AsyncClient, int], auth_settings: AuthSettings
    ) -> None:
        _, port = gateway
        token = bearer(auth_settings, Role.SERVICE)["Authorization"]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = gateway_pb2_grpc.InferenceGatewayServiceStub(channel)
            status = await stub.GetTritonStatus(
                gateway_pb2.GetTritonStatusRequest(), metadata=(("authorization", token),)
            )
        assert status.live
        assert status.ready
        assert any(m.name == "demo-lm" for m in status.models)


class TestTritonDown:
    async def test_unreachable_triton_is_503_problem(
        self, database_factory: DatabaseFactory, kafka_settings: KafkaSettings, auth_settings: AuthSettings
    ) -> None:
        settings = GatewaySettings(
            database_url=await database_factory.create("gateway"),
            kafka=kafka_settings,
            auth=auth_settings,
            grpc_port=free_port(),
            triton_url=f"127.0.0.1:{free_port()}",
            triton_timeout_seconds=2,
            intake_enabled=False,
        )
        async with serving(create_app(settings)) as client:
            response = await client.get("/v1/triton/status", headers=bearer(auth_settings, Role.OPERATOR))
        assert response.status_code == 503
        assert response.json()["code"] == "triton-unavailable"
