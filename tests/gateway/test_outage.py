"""Triton stopped in the middle of a run: the breaker opens, the run waits and says why, no item is
lost, and the run finishes once Triton is back (a new server process on the same ports)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.events.inference import GpuPool
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from gateway.conftest import SettingsFactory
from gateway.helpers import all_responses, finished, get_run, request_run, run_body, wait_for_run, write_items
from support.databases import DatabaseFactory
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


@pytest.fixture
async def own_triton(tmp_path: Path) -> AsyncIterator[list[TritonProcess]]:
    """A Triton of this test's own (it gets stopped); the list holds the current server process."""
    ports = (free_port(), free_port(), free_port())
    servers = [TritonProcess(*ports, load_models=["demo-lm"])]
    servers[0].start(tmp_path / "triton-1.log")
    try:
        await servers[0].wait_ready(timeout=120)
        yield servers
    finally:
        for server in servers:
            server.stop()


async def restart(servers: list[TritonProcess], log: Path) -> None:
    old = servers[-1]
    server = TritonProcess(old.http_port, old.grpc_port, old.metrics_port, load_models=["demo-lm"])
    servers.append(server)
    server.start(log)
    await server.wait_ready(timeout=120)


def breaker_of(pools: dict[str, Any], grpc_url: str) -> str:
    [state] = [e for e in pools["endpoints"] if e["endpoint"].endswith(grpc_url)]
    return str(state["breaker"])


class TestTritonOutage:
    async def test_the_breaker_opens_the_run_waits_saying_why_and_finishes_with_nothing_lost(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        own_triton: list[TritonProcess],
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(
            await database_factory.create("gateway"),
            pool_capacity={GpuPool.H100: 2, GpuPool.B200: 2},
            chunk_size=100,
            triton_url=own_triton[0].grpc_url,
        )
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        grpc_url = own_triton[0].grpc_url
        items, _ = write_items(tmp_path, 2000)
        run = await request_run(gateway, auth_settings, run_body(items, 2000, grpc_url))
        await wait_for_run(gateway, auth_settings, run["id"], lambda r: r["answered"] >= 300, interval=0.02)

        own_triton[0].stop()
        waiting = await wait_for_run(gateway, auth_settings, run["id"], lambda r: r["status"] == "waiting")

        assert "is not answering (circuit open since" in waiting["status_reason"]
        assert grpc_url in waiting["status_reason"]
        pools = (await gateway.get("/v1/pools", headers=bearer(auth_settings, Role.OPERATOR))).json()
        assert breaker_of(pools, grpc_url) in ("open", "half-open")
        paused_at = waiting["answered"]
        await asyncio.sleep(1.0)  # probes go out and fail; nothing is recorded meanwhile
        still = await get_run(gateway, auth_settings, run["id"])
        assert (still["status"], still["answered"], still["errored"]) == ("waiting", paused_at, 0)

        await restart(own_triton, tmp_path / "triton-2.log")
        done = await wait_for_run(gateway, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed"
        assert done["status_reason"] is None
        assert (done["answered"], done["errored"]) == (2000, 0)
        records = await all_responses(gateway, auth_settings, run["id"])
        assert [r["seq"] for r in records] == list(range(2000))
        assert all(r["status"] == "ok" for r in records)
        pools = (await gateway.get("/v1/pools", headers=bearer(auth_settings, Role.OPERATOR))).json()
        assert breaker_of(pools, grpc_url) == "closed"
        metrics = (await gateway.get("/metrics")).text
        assert 'fmc_gateway_requests_total{endpoint="demo-lm:latest@grpc://' in metrics
        assert 'outcome="endpoint-down"' in metrics


class TestModelControl:
    async def test_an_operator_unloads_and_loads_a_model_through_tritons_repository_api(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        own_triton: list[TritonProcess],
        auth_settings: AuthSettings,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"), triton_url=own_triton[0].grpc_url)
        )
        body = {"endpoint": {"url": own_triton[0].grpc_url, "model_name": "demo-lm", "gpu_pool": "H100"}}
        operator = bearer(auth_settings, Role.OPERATOR)

        unloaded = await gateway.post("/v1/endpoints/unload", json=body, headers=operator)
        assert unloaded.status_code == 204, unloaded.text
        check = (await gateway.post("/v1/endpoints/check", json=body, headers=operator)).json()
        assert check["code"] == "model-not-ready"
        assert "(state UNLOADING)" in check["reason"] or "(state UNAVAILABLE" in check["reason"]

        loaded = await gateway.post("/v1/endpoints/load", json=body, headers=operator)
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["ready"] is True
        missing = await gateway.post(
            "/v1/endpoints/load",
            json={"endpoint": body["endpoint"] | {"model_name": "no-such-lm"}},
            headers=operator,
        )
        assert missing.status_code == 409
        assert missing.json()["code"] == "model-control-refused"
        service = await gateway.post(
            "/v1/endpoints/unload", json=body, headers=bearer(auth_settings, Role.SERVICE)
        )
        assert service.status_code == 403

    @pytest.mark.parametrize(
        "url", ["0", "h\x95st:8000", "http://[::1"], ids=["bare-0", "bad-idna", "bad-ipv6"]
    )
    async def test_an_address_no_client_can_parse_is_a_422_problem_not_a_500(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        auth_settings: AuthSettings,
        url: str,
    ) -> None:
        """Found by tests/gateway/test_api_fuzz.py: aiohttp's InvalidUrlClientError and the idna
        UnicodeError escaped as 500s (then 503). Such an address is none of the configured Triton
        servers: it is refused before a client reads it."""
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"), readiness_timeout_seconds=1.0)
        )
        body = {"endpoint": {"url": url, "model_name": "demo-lm", "protocol": "http", "gpu_pool": "H100"}}
        operator = bearer(auth_settings, Role.OPERATOR)

        for operation in ("load", "unload"):
            response = await gateway.post(f"/v1/endpoints/{operation}", json=body, headers=operator)
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "uri-not-allowed"
