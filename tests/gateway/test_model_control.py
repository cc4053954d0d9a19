"""Team models on Triton with explicit model control, on two real Triton servers started empty
(``--model-control-mode=explicit``, nothing loaded) as one pool's two pods.

The gateway loads a run's model on both pods before the run, spreads the run's requests over the pods
(one gRPC channel, round robin), keeps the model while any run on it is in progress, unloads it once
none is, and says why a run waits or failed when the load does not happen."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
import tritonclient.grpc.aio as grpc_aio

from fmc_common.auth import Role
from fmc_common.events.inference import DecodingParameters, InferenceProtocol, RunEndpoint, ServingConvention
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.main import create_app
from fmc_gateway.runs.engine import GatewayEngine
from fmc_gateway.runs.loading import ModelLoader
from fmc_gateway.triton.inference import EndpointAddress, ModelClient
from fmc_gateway.triton.pods import TritonPods
from gateway.conftest import SettingsFactory
from gateway.helpers import finished, request_run, run_body, triton_successes, wait_for_run, write_items
from support.databases import DatabaseFactory
from support.services import bearer, serving

pytestmark = [pytest.mark.broker, pytest.mark.triton]

MODEL = "demo-lm"


@pytest.fixture(scope="module")
async def pods(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[list[TritonProcess]]:
    """Two Triton servers on the CPU with the demo repository and no model loaded."""
    servers = [TritonProcess(free_port(), free_port(), free_port(), load_models=()) for _ in range(2)]
    try:
        for number, server in enumerate(servers):
            server.start(tmp_path_factory.mktemp(f"pod{number}") / "triton.log")
        for server in servers:
            await server.wait_ready(timeout=120)
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextmanager
def items_server(directory: Path, port: int) -> Iterator[None]:
    """A plain HTTP server of ``directory`` on ``port`` (the items source a waiting run needs)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


async def model_ready(grpc_url: str, model: str = MODEL) -> bool:
    client = grpc_aio.InferenceServerClient(grpc_url)
    try:
        return bool(await client.is_model_ready(model))
    finally:
        await client.close()


@asynccontextmanager
async def explicit_gateway(
    database_factory: DatabaseFactory,
    gateway_settings: SettingsFactory,
    pods: list[TritonProcess],
    nowhere: str,
    **overrides: Any,
) -> AsyncIterator[tuple[Any, ModelLoader]]:
    """A gateway in explicit mode whose pool address (the first server, as a Service would be) has both
    servers as its pods. The sweep is called by the tests (its own period is an hour)."""
    first, second = pods
    settings = gateway_settings(
        await database_factory.create("gateway"),
        triton_allowed_hosts=[first.grpc_url, f"127.0.0.1:{first.http_port}", nowhere],
        triton_model_control="explicit",
        triton_model_idle_seconds=0,
        triton_model_sweep_seconds=3600,
        triton_pods={first.grpc_url: [first.grpc_url, second.grpc_url]},
        **overrides,
    )
    app = create_app(settings)
    async with serving(app) as client:
        engine = app.state.runtime.component(GatewayEngine)
        assert engine.models is not None
        yield client, engine.models


class TestExplicitModelControl:
    async def test_a_run_loads_its_model_on_every_pod_spreads_its_requests_and_the_last_run_unloads_it(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        pods: list[TritonProcess],
        nowhere: str,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        first, second = pods
        assert not await model_ready(first.grpc_url)
        assert not await model_ready(second.grpc_url)
        web_port = free_port()
        web = f"http://127.0.0.1:{web_port}"
        async with explicit_gateway(
            database_factory, gateway_settings, pods, nowhere, items_allowed_urls=[f"{web}/items/"]
        ) as (gateway, models):
            items, _ = write_items(tmp_path, 60)
            done = await wait_for_run(
                gateway,
                auth_settings,
                (await request_run(gateway, auth_settings, run_body(items, 60, first.grpc_url)))["id"],
                finished,
            )
            assert done["status"] == "completed", done
            assert await model_ready(first.grpc_url)
            assert await model_ready(second.grpc_url)
            # One channel, both pods: each answered part of the run's requests.
            answered = [await triton_successes(pod.grpc_url) for pod in pods]
            assert all(count > 0 for count in answered), answered
            assert sum(answered) >= 60

            # A second run that cannot start yet (its items server is not up) holds the model.
            later = run_body(items, 5, first.grpc_url)
            later["items"] = {"uri": f"{web}/items/later.jsonl", "item_count": 5, "sha256": None}
            waiting = await request_run(gateway, auth_settings, later)
            await wait_for_run(gateway, auth_settings, waiting["id"], lambda r: r["status"] == "waiting")
            assert await models.sweep() == []
            assert await model_ready(first.grpc_url)
            assert await model_ready(second.grpc_url)

            (tmp_path / "web" / "items").mkdir(parents=True)
            write_items(tmp_path / "web" / "items", 5, name="later.jsonl")
            with items_server(tmp_path / "web", web_port):
                resumed = await wait_for_run(gateway, auth_settings, waiting["id"], finished, timeout=90)
            assert resumed["status"] == "completed", resumed
            assert await models.sweep() == [f"{MODEL}:latest@grpc://{first.grpc_url}"]
            assert not await model_ready(first.grpc_url)
            assert not await model_ready(second.grpc_url)
            assert await models.sweep() == []  # nothing left to unload

    async def test_a_refused_load_fails_the_run_and_an_unreachable_server_makes_it_wait(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        pods: list[TritonProcess],
        nowhere: str,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        first, _ = pods
        items, _ = write_items(tmp_path, 3)
        async with explicit_gateway(database_factory, gateway_settings, pods, nowhere) as (gateway, models):
            absent = await request_run(
                gateway, auth_settings, run_body(items, 3, first.grpc_url, model="no-such-model")
            )
            down = await request_run(gateway, auth_settings, run_body(items, 3, nowhere))
            failed = await wait_for_run(gateway, auth_settings, absent["id"], finished)
            waiting = await wait_for_run(
                gateway, auth_settings, down["id"], lambda r: r["status"] == "waiting"
            )
            # The failed run holds nothing: its model is forgotten at the next sweep. The waiting run's
            # is kept (its server, not answering, is asked again at each sweep).
            assert await models.sweep() == [f"no-such-model:latest@grpc://{first.grpc_url}"]
            assert await models.sweep() == []
        assert (failed["status"], failed["failure_code"]) == ("failed", "model-not-ready")
        assert failed["status_reason"].startswith("loading the model 'no-such-model' failed: ")
        assert "loading the model 'demo-lm'" in waiting["status_reason"]
        assert nowhere in waiting["status_reason"]


@pytest.fixture
async def empty_pods(pods: list[TritonProcess]) -> list[TritonProcess]:
    """The two pods with nothing loaded (an earlier test may have left the model loaded)."""
    for pod in pods:
        client = grpc_aio.InferenceServerClient(pod.grpc_url)
        try:
            if await client.is_model_ready(MODEL):
                await client.unload_model(MODEL)
        finally:
            await client.close()
    return pods


def arena_battle(first: TritonProcess, voter: str, model: str = MODEL) -> dict[str, Any]:
    """Two contenders on the pool's address: one over gRPC (both pods), one over HTTP (the first pod)."""
    endpoints = [
        {"url": first.grpc_url, "protocol": "grpc"},
        {"url": f"127.0.0.1:{first.http_port}", "protocol": "http"},
    ]
    return {
        "stage_id": str(uuid.uuid4()),
        "voter_id": voter,
        "prompt": "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Mercury\nAnswer:",
        "contenders": [
            {
                "submission_id": str(uuid.uuid4()),
                "endpoint": endpoint | {"model_name": model, "gpu_pool": "H100"},
            }
            for endpoint in endpoints
        ],
    }


class TestArenaBattles:
    """Battles have no run: the battle loads its models, holds them while it answers, and leaves them
    to the sweep's idle time afterwards."""

    async def test_the_first_battle_loads_both_models_and_the_sweep_unloads_them_once_battles_stop(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        empty_pods: list[TritonProcess],
        nowhere: str,
        auth_settings: AuthSettings,
    ) -> None:
        first, second = pods = empty_pods
        assert not await model_ready(first.grpc_url)
        service = bearer(auth_settings, Role.SERVICE)
        async with explicit_gateway(
            database_factory, gateway_settings, pods, nowhere, runs_enabled=False
        ) as (gateway, models):
            whole = await gateway.post("/v1/arena/battles", json=arena_battle(first, "v1"), headers=service)
            assert whole.status_code == 201, whole.text
            assert await model_ready(first.grpc_url)
            assert await model_ready(second.grpc_url)  # the gRPC contender's pool: every pod
            streamed = await gateway.post(
                "/v1/arena/battles/stream", json=arena_battle(first, "v2"), headers=service
            )
            assert streamed.status_code == 200, streamed.text
            assert '"type":"done"' in streamed.text.replace(" ", ""), streamed.text
            # Both battles over, nothing held: the idle time (0 here) has passed, the sweep unloads.
            assert models.held == set()
            assert set(await models.sweep()) == {
                f"{MODEL}:latest@grpc://{first.grpc_url}",
                f"{MODEL}:latest@http://127.0.0.1:{first.http_port}",
            }
            assert not await model_ready(first.grpc_url)
            assert not await model_ready(second.grpc_url)
            # The next battle loads them again.
            again = await gateway.post("/v1/arena/battles", json=arena_battle(first, "v3"), headers=service)
            assert again.status_code == 201, again.text
            assert await model_ready(second.grpc_url)

    async def test_a_model_held_by_a_battle_is_not_unloaded_and_is_after_it(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        empty_pods: list[TritonProcess],
        nowhere: str,
    ) -> None:
        first, second = pods = empty_pods
        endpoint = RunEndpoint.model_validate(
            {"url": first.grpc_url, "model_name": MODEL, "gpu_pool": "H100"}
        )
        async with explicit_gateway(
            database_factory, gateway_settings, pods, nowhere, runs_enabled=False
        ) as (_, models):
            async with models.holding(endpoint), models.holding(endpoint):
                assert len(models.held) == 1
                assert await models.sweep() == []
                assert await model_ready(first.grpc_url)
                assert await model_ready(second.grpc_url)
            assert models.held == set()
            assert await models.sweep() == [f"{MODEL}:latest@grpc://{first.grpc_url}"]
            assert not await model_ready(second.grpc_url)

    async def test_a_model_that_cannot_be_loaded_refuses_the_battle_with_503_without_naming_it(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        empty_pods: list[TritonProcess],
        nowhere: str,
        auth_settings: AuthSettings,
    ) -> None:
        first, _ = pods = empty_pods
        service = bearer(auth_settings, Role.SERVICE)
        async with explicit_gateway(
            database_factory, gateway_settings, pods, nowhere, runs_enabled=False
        ) as (gateway, models):
            refused = await gateway.post(
                "/v1/arena/battles", json=arena_battle(first, "v1", "no-such-model"), headers=service
            )
            unreachable_body = arena_battle(first, "v2")
            unreachable_body["contenders"][1]["endpoint"] |= {"url": nowhere, "protocol": "grpc"}
            unreachable = await gateway.post(
                "/v1/arena/battles/stream", json=unreachable_body, headers=service
            )
            for response in (refused, unreachable):
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "arena-model-unavailable"
                assert "no-such-model" not in response.text
                assert nowhere not in response.text
            assert models.held == set()  # nothing held after a refusal
            # The refused battles cost the voters nothing: their limit is untouched.
            again = await gateway.post("/v1/arena/battles", json=arena_battle(first, "v1"), headers=service)
            assert again.status_code == 201, again.text


class TestPods:
    def test_a_static_pod_list_becomes_one_round_robin_channel(self) -> None:
        pods = TritonPods(
            static={"triton-h100:8001": ["10.0.0.7:8001", "10.0.0.8:8001"]}, base_args=[("a", 1)]
        )
        target, args = pods.channel("triton-h100:8001")
        assert target == "ipv4:10.0.0.7:8001,10.0.0.8:8001"
        assert ("grpc.lb_policy_name", "round_robin") in args
        assert ("grpc.default_authority", "triton-h100:8001") in args
        assert ("a", 1) in args
        assert pods.pod_urls("grpcs://triton-h100:8001") == ["grpcs://10.0.0.7:8001", "grpcs://10.0.0.8:8001"]
        # an address without pods is itself
        assert pods.channel("triton-b200:8001")[0] == "triton-b200:8001"

    async def test_http_protocol_requests_go_to_the_pods_in_turn_under_the_address_name(self) -> None:
        """Triton's generate extension (and OpenAI chat) over HTTP: each request to the next pod, its
        Host header the address's (the Service's), not the pod's."""
        seen: list[tuple[int, str]] = []

        class Generate(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen.append((cast(ThreadingHTTPServer, self.server).server_port, self.headers["Host"]))
                body = json.dumps({"model_name": "m", "model_version": "1", "text_output": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        servers = [ThreadingHTTPServer(("127.0.0.1", 0), Generate) for _ in range(2)]
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        ports = [server.server_port for server in servers]
        pods = TritonPods(static={"triton-h100:8000": [f"127.0.0.1:{port}" for port in ports]})
        address = EndpointAddress(
            "triton-h100:8000", InferenceProtocol.HTTP, "m", "", ServingConvention.TRITON_GENERATE
        )
        client = ModelClient(address, {"text_input": "BYTES"}, False, pods)
        try:
            answers = [await client.infer("hi", DecodingParameters(), 10) for _ in range(4)]
        finally:
            await client.close()
            for server in servers:
                server.shutdown()
                server.server_close()
        assert [answer.text for answer in answers] == ["ok"] * 4
        assert sorted(port for port, _ in seen) == sorted(ports * 2)
        assert {host for _, host in seen} == {"triton-h100:8000"}

    async def test_a_headless_service_is_resolved_again_and_clients_move_to_the_new_pods(self) -> None:
        answers = {"triton-h100": ["10.0.0.7", "10.0.0.8"]}

        def resolve(host: str, port: int) -> list[str]:
            return [f"{ip}:{port}" for ip in answers[host]]

        pods = TritonPods(resolve=True, resolver=resolve)
        assert pods.pods("triton-h100:8001") == ["10.0.0.7:8001", "10.0.0.8:8001"]
        moved: list[str] = []

        class Client:
            def retarget(self, target: str, args: list[tuple[str, Any]]) -> None:
                moved.append(target)

        client = Client()
        pods.watch("triton-h100:8001", client.retarget)
        assert await pods.refresh() == []
        answers["triton-h100"] = ["10.0.0.8", "10.0.0.9", "10.0.0.10"]
        assert await pods.refresh() == ["triton-h100:8001"]
        assert moved == ["ipv4:10.0.0.8:8001,10.0.0.9:8001,10.0.0.10:8001"]
        del client
        answers["triton-h100"] = ["10.0.0.11"]
        assert await pods.refresh() == ["triton-h100:8001"]  # a client gone is not called
        assert moved == ["ipv4:10.0.0.8:8001,10.0.0.9:8001,10.0.0.10:8001"]
