"""The gateway connects to the Triton servers its settings name and to nothing else: an endpoint at
another address (a run over REST or Kafka, a submission, a readiness check, a model load or unload,
an arena battle) is refused at the edge with ``uri-not-allowed``, and a real listener at that
address sees no connection. The session's Triton, which the settings name, still answers."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord

from fmc_common.auth import Role
from fmc_common.events.inference import (
    DecodingParameters,
    GpuPool,
    InferenceRunRequested,
    ItemsSource,
    RunEndpoint,
    SuiteReference,
)
from fmc_common.events.registry import SubmissionRegistered, TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.triton.hosts import TritonHostNotAllowed, TritonHosts
from gateway.conftest import SettingsFactory
from gateway.helpers import SUITE_HASH, finished, run_body, wait_for_run, write_items
from support.databases import DatabaseFactory
from support.kafka import envelope_bytes, first_record, produce_raw
from support.services import bearer


class Listener:
    """A loopback TCP server that counts the connections it accepts and closes them."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    counting = Listener()
    server = await asyncio.start_server(counting._accept, "127.0.0.1", 0)
    counting.port = server.sockets[0].getsockname()[1]
    try:
        yield counting
    finally:
        server.close()
        await server.wait_closed()


def elsewhere(listener: Listener) -> list[str]:
    """Endpoint URLs that lead to the listener, plainly or with a scheme."""
    return [listener.address, f"http://{listener.address}", f"grpc://{listener.address}/"]


class TestTritonHosts:
    """The rule itself (pure)."""

    def test_only_the_exact_configured_host_and_port_is_allowed(self) -> None:
        hosts = TritonHosts(["triton-h100:8001", "http://Triton-B200:8000"])

        for url in ("triton-h100:8001", "grpc://TRITON-H100:8001", "https://triton-b200:8000/"):
            hosts.check(url)
        for url in (
            "triton-h100:8000",  # another port of an allowed host
            "triton-h100:08001",  # a port spelt otherwise
            "triton-h100",  # no port: the client would pick one
            "triton-h100:8001/v2",
            "user@triton-h100:8001",
            "triton-h100.evil:8001",
            "127.0.0.1:8001",
            "[::1]:8001",
            "",
        ):
            with pytest.raises(TritonHostNotAllowed):
                hosts.check(url)

    def test_a_malformed_setting_stops_the_start(self) -> None:
        for entry in ("triton-h100", "triton-h100:0", "a/b:1", "::1:8001"):
            with pytest.raises(ValueError, match="FMC_GATEWAY_TRITON_ALLOWED_HOSTS"):
                TritonHosts([entry])


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "uri-not-allowed"


@pytest.mark.broker
@pytest.mark.triton
class TestRest:
    @pytest.fixture
    async def gateway(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
    ) -> httpx.AsyncClient:
        client: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"))
        )
        return client

    async def test_a_run_on_another_server_is_refused_and_nothing_connects(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        listener: Listener,
        tmp_path: Path,
    ) -> None:
        items, sha256 = write_items(tmp_path, 2)
        for url in elsewhere(listener):
            body = run_body(items, 2, url, sha256=sha256)
            response = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))
            assert_refused(response)
            missing = await gateway.get(
                f"/v1/runs/{body['run_id']}", headers=bearer(auth_settings, Role.OPERATOR)
            )
            assert missing.status_code == 404  # nothing recorded, so nothing for the engine to connect to

        # The engine polls every 50 ms: a run that slipped through would have connected by now.
        ok = run_body(items, 2, triton.grpc_url, sha256=sha256)
        created = await gateway.post("/v1/runs", json=ok, headers=bearer(auth_settings, Role.SERVICE))
        assert created.status_code == 201, created.text
        done = await wait_for_run(gateway, auth_settings, ok["run_id"], finished)
        assert done["status"] == "completed"
        assert listener.connections == 0

    @pytest.mark.parametrize("operation", ["check", "load", "unload"])
    async def test_a_readiness_check_or_model_control_elsewhere_is_refused_and_nothing_connects(
        self, gateway: httpx.AsyncClient, auth_settings: AuthSettings, listener: Listener, operation: str
    ) -> None:
        for url in elsewhere(listener):
            for protocol in ("grpc", "http"):
                body = {
                    "endpoint": {
                        "url": url,
                        "model_name": "demo-lm",
                        "protocol": protocol,
                        "gpu_pool": "H100",
                    }
                }
                response = await gateway.post(
                    f"/v1/endpoints/{operation}", json=body, headers=bearer(auth_settings, Role.OPERATOR)
                )
                assert_refused(response)
        assert listener.connections == 0

    async def test_the_configured_server_is_still_checked(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        for url, protocol in ((triton.grpc_url, "grpc"), (triton.http_url, "http")):
            body = {
                "endpoint": {"url": url, "model_name": "demo-lm", "protocol": protocol, "gpu_pool": "H100"}
            }
            response = await gateway.post(
                "/v1/endpoints/check", json=body, headers=bearer(auth_settings, Role.OPERATOR)
            )
            assert response.status_code == 200, response.text
            assert response.json()["ready"] is True

    async def test_a_battle_with_one_contender_elsewhere_is_refused_and_nothing_connects(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        listener: Listener,
    ) -> None:
        endpoints = [
            {"url": triton.grpc_url, "model_name": "demo-lm", "protocol": "grpc", "gpu_pool": "H100"},
            {"url": listener.address, "model_name": "demo-lm", "protocol": "grpc", "gpu_pool": "B200"},
        ]
        body = {
            "stage_id": str(uuid.uuid4()),
            "voter_id": "voter-1",
            "prompt": "Which planet is largest?",
            "contenders": [{"submission_id": str(uuid.uuid4()), "endpoint": e} for e in endpoints],
        }
        service = bearer(auth_settings, Role.SERVICE)
        for _ in range(3):  # whichever pair is drawn
            assert_refused(await gateway.post("/v1/arena/battles", json=body, headers=service))
        assert listener.connections == 0


def run_requested(url: str, items: Path, count: int, sha256: str) -> InferenceRunRequested:
    return InferenceRunRequested(
        run_id=uuid.uuid4(),
        stage_id=uuid.uuid4(),
        submission_id=uuid.uuid4(),
        team_id=uuid.uuid4(),
        endpoint=RunEndpoint(url=url, model_name="demo-lm", gpu_pool=GpuPool.H100),
        suite=SuiteReference(suite_id="demo-en", version="1", content_hash=SUITE_HASH),
        items=ItemsSource(uri=items.as_uri(), item_count=count, sha256=sha256),
        decoding=DecodingParameters(max_tokens=4),
        requested_at=datetime.now(UTC),
    )


def submission_registered(url: str) -> SubmissionRegistered:
    return SubmissionRegistered(
        submission_id=uuid.uuid4(),
        stage_id=uuid.uuid4(),
        team_id=uuid.uuid4(),
        version=1,
        endpoint=TritonEndpoint(
            url=url, model_name="demo-lm", model_version="", protocol="grpc", gpu_pool="H100"
        ),
        manifest_digest="sha256:" + hashlib.sha256(b"weights").hexdigest(),
        registered_at=datetime.now(UTC),
    )


def about(identifier: uuid.UUID) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    return lambda record: str(identifier).encode() in (record.value or b"")


def assert_dead_lettered(letter: ConsumerRecord[bytes, bytes]) -> None:
    headers = {name: value.decode() for name, value in letter.headers}
    assert headers["fmc-dlq-reason"] == "handler-rejected"
    assert headers["fmc-dlq-error"].startswith("uri-not-allowed: ")
    assert headers["fmc-dlq-consumer"] == "inference-gateway.intake"


@pytest.mark.broker
@pytest.mark.triton
class TestEvents:
    async def test_a_requested_run_and_a_submission_elsewhere_are_dead_lettered_and_nothing_connects(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        listener: Listener,
        tmp_path: Path,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"), intake_enabled=True)
        )
        bootstrap = kafka_settings.bootstrap_servers
        items, sha256 = write_items(tmp_path, 3)
        submission = submission_registered(listener.address)
        refused = run_requested(listener.address, items, 3, sha256)
        accepted = run_requested(triton.grpc_url, items, 3, sha256)
        await produce_raw(bootstrap, str(Topic.REGISTRY), [envelope_bytes(submission)], key=b"stage")
        # Same partition, refused one first: the consumer carries on past it.
        key = str(uuid.uuid4()).encode()
        await produce_raw(
            bootstrap, str(Topic.SCORING), [envelope_bytes(refused), envelope_bytes(accepted)], key=key
        )

        done = await wait_for_run(
            gateway, auth_settings, str(accepted.run_id), finished, timeout=90, missing_ok=True
        )
        assert done["status"] == "completed"
        assert_dead_lettered(await first_record(bootstrap, str(Topic.GATEWAY_DLQ), about(refused.run_id)))
        assert_dead_lettered(
            await first_record(bootstrap, str(Topic.GATEWAY_DLQ), about(submission.submission_id))
        )
        operator = bearer(auth_settings, Role.OPERATOR)
        assert (await gateway.get(f"/v1/runs/{refused.run_id}", headers=operator)).status_code == 404
        known = (await gateway.get("/v1/endpoints", headers=operator)).json()
        assert all(e["url"] != listener.address for e in known["items"])
        assert listener.connections == 0
