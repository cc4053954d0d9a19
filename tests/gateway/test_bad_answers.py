"""No stuck run, no run blocking another: bad answers, items and endpoints fail only what they touch."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from gateway.conftest import SettingsFactory
from gateway.helpers import (
    all_responses,
    finished,
    of_type,
    request_run,
    run_body,
    run_events,
    wait_for_run,
    write_items,
)
from support.databases import DatabaseFactory
from support.proxy import TcpProxy
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


StartGateway = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def start_gateway(
    database_factory: DatabaseFactory, gateway_settings: SettingsFactory, gateway_factory: Callable[..., Any]
) -> StartGateway:
    """Start a gateway on a fresh database (SQLite and PostgreSQL); keyword arguments override settings."""

    async def start(**overrides: Any) -> httpx.AsyncClient:
        client: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"), **overrides)
        )
        return client

    return start


def prompts_run(
    directory: Path, prompts: list[str], endpoint_url: str, model: str = "demo-lm"
) -> dict[str, Any]:
    """A run request for an items document of exactly ``prompts`` (item-0, item-1, ...)."""
    path = directory / f"prompts-{uuid.uuid4().hex[:8]}.jsonl"
    raw = "".join(json.dumps({"item_id": f"item-{i}", "prompt": p}) + "\n" for i, p in enumerate(prompts))
    path.write_bytes(raw.encode())
    sha = hashlib.sha256(raw.encode()).hexdigest()
    return run_body(path, len(prompts), endpoint_url, sha256=sha, model=model)


def items_run(directory: Path, count: int, endpoint_url: str) -> dict[str, Any]:
    """A run request for ``count`` ordinary demo-lm items."""
    items, sha = write_items(directory, count)
    return run_body(items, count, endpoint_url, sha256=sha)


class TestBadAnswers:
    async def test_a_nul_a_huge_token_count_or_a_wrong_output_type_fail_only_their_item_and_no_other_run(
        self, start_gateway: StartGateway, auth_settings: AuthSettings, triton: TritonProcess, tmp_path: Path
    ) -> None:
        gateway = await start_gateway()
        prompts = ["plain a", "nul b", "huge c", "wrongtype d", "plain e"]
        bad = prompts_run(tmp_path, prompts, triton.grpc_url, model="misbehaving-lm")
        good = items_run(tmp_path, 40, triton.grpc_url)

        await asyncio.gather(
            request_run(gateway, auth_settings, bad), request_run(gateway, auth_settings, good)
        )

        good_run = await wait_for_run(gateway, auth_settings, good["run_id"], finished, timeout=60)
        bad_run = await wait_for_run(gateway, auth_settings, bad["run_id"], finished, timeout=60)
        assert (good_run["status"], good_run["answered"], good_run["errored"]) == ("completed", 40, 0)
        assert (bad_run["status"], bad_run["answered"], bad_run["errored"]) == ("completed", 5, 2)
        answers = {r["item_id"]: r for r in await all_responses(gateway, auth_settings, bad["run_id"])}
        assert answers["item-0"]["text"] == "plain a"
        assert answers["item-1"]["status"] == "ok"
        assert answers["item-1"]["text"] == "before\ufffdafter"
        assert answers["item-2"]["status"] == "error"
        assert "completion_tokens 2147483655" in answers["item-2"]["error"]
        assert answers["item-3"]["status"] == "error"
        assert "invalid-answer: output prompt_tokens" in answers["item-3"]["error"]

    async def test_a_model_that_times_out_on_every_item_gives_per_item_errors_after_the_attempts(
        self, start_gateway: StartGateway, auth_settings: AuthSettings, triton: TritonProcess, tmp_path: Path
    ) -> None:
        gateway = await start_gateway()
        # Over three times the request timeout: every attempt times out, and the shared Triton is
        # not kept busy for long after.
        body = prompts_run(tmp_path, ["sleep 1"] * 6, triton.grpc_url, model="misbehaving-lm")
        body["limits"] = {"request_timeout_seconds": 0.3, "max_attempts": 2}

        await request_run(gateway, auth_settings, body)

        run = await wait_for_run(gateway, auth_settings, body["run_id"], finished, timeout=60)
        assert (run["status"], run["answered"], run["errored"]) == ("completed", 6, 6)
        answers = await all_responses(gateway, auth_settings, body["run_id"])
        assert all(a["error"].startswith("timeout") and a["attempts"] == 2 for a in answers)


class TestStuckRuns:
    async def test_an_items_document_with_a_nul_fails_its_run_as_items_invalid_without_blocking_another(
        self, start_gateway: StartGateway, auth_settings: AuthSettings, triton: TritonProcess, tmp_path: Path
    ) -> None:
        gateway = await start_gateway()
        bad = prompts_run(tmp_path, ["fine", "Question: a\x00b"], triton.grpc_url)
        good = items_run(tmp_path, 20, triton.grpc_url)

        await asyncio.gather(
            request_run(gateway, auth_settings, bad), request_run(gateway, auth_settings, good)
        )

        bad_run = await wait_for_run(gateway, auth_settings, bad["run_id"], finished, timeout=30)
        good_run = await wait_for_run(gateway, auth_settings, good["run_id"], finished, timeout=30)
        assert (bad_run["status"], bad_run["failure_code"]) == ("failed", "items-invalid")
        assert "items line 2" in bad_run["status_reason"]
        assert "NUL" in bad_run["status_reason"]
        assert (good_run["status"], good_run["answered"]) == ("completed", 20)

    async def test_a_run_whose_endpoint_never_answers_fails_after_the_wait_limit_naming_what_it_waited_on(
        self, start_gateway: StartGateway, auth_settings: AuthSettings, nowhere: str, tmp_path: Path
    ) -> None:
        gateway = await start_gateway(wait_limit_seconds=1.5)
        body = items_run(tmp_path, 3, nowhere)

        await request_run(gateway, auth_settings, body)

        run = await wait_for_run(gateway, auth_settings, body["run_id"], finished, timeout=30)
        assert (run["status"], run["failure_code"]) == ("failed", "wait-limit-exceeded")
        assert "FMC_GATEWAY_WAIT_LIMIT_SECONDS" in run["status_reason"]
        assert "readiness check" in run["status_reason"]


class TestRunWaiting:
    async def test_a_run_waiting_on_an_unreachable_endpoint_is_announced_once_with_its_cause(
        self,
        start_gateway: StartGateway,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        nowhere: str,
        tmp_path: Path,
    ) -> None:
        gateway = await start_gateway()
        body = items_run(tmp_path, 3, nowhere)

        await request_run(gateway, auth_settings, body)
        await wait_for_run(gateway, auth_settings, body["run_id"], lambda r: r["status"] == "waiting")
        await asyncio.sleep(1.5)  # the readiness check is tried again every 0.3 s: still one pause

        events = await run_events(
            kafka_settings.bootstrap_servers,
            body["run_id"],
            lambda found: bool(of_type(found, "inference-run-waiting")),
            settle=1.0,
        )
        [event] = of_type(events, "inference-run-waiting")
        assert event.data["cause"] == "endpoint-unreachable"
        assert event.data["reason"].startswith(f"readiness check: Triton at {nowhere}")
        assert (event.data["answered"], event.data["total"]) == (0, 3)

    async def test_an_endpoint_cut_mid_run_pauses_the_run_once_and_it_completes_when_it_is_back(
        self,
        start_gateway: StartGateway,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        triton: TritonProcess,
        tmp_path: Path,
    ) -> None:
        host, port = triton.grpc_url.rsplit(":", 1)
        proxy = TcpProxy(host, int(port))
        await proxy.start()
        try:
            address = f"127.0.0.1:{proxy.port}"
            gateway = await start_gateway(triton_allowed_hosts=[triton.grpc_url, address])
            body = prompts_run(tmp_path, ["sleep 0.1"] * 60, address, model="misbehaving-lm")
            await request_run(gateway, auth_settings, body)
            await wait_for_run(gateway, auth_settings, body["run_id"], lambda r: r["answered"] >= 1)

            await proxy.cut()
            waiting = await wait_for_run(
                gateway, auth_settings, body["run_id"], lambda r: r["status"] == "waiting"
            )
            await asyncio.sleep(1.0)  # probes fail meanwhile: the same pause
            await proxy.restore()
            done = await wait_for_run(gateway, auth_settings, body["run_id"], finished, timeout=60)
        finally:
            await proxy.stop()

        # The subject is the pause: requests caught on the cut connection may time out (their items'
        # records are errors after the run's attempts while the server answers it is ready).
        assert (done["status"], done["answered"]) == ("completed", 60)
        events = await run_events(
            kafka_settings.bootstrap_servers,
            body["run_id"],
            lambda found: bool(of_type(found, "inference-run-completed")),
        )
        [event] = of_type(events, "inference-run-waiting")
        assert event.data["cause"] == "breaker-open"
        assert event.data["reason"] == waiting["status_reason"]


class TestEndpointCreation:
    async def test_two_simultaneous_run_requests_for_a_new_endpoint_are_both_accepted(
        self, start_gateway: StartGateway, auth_settings: AuthSettings, triton: TritonProcess, tmp_path: Path
    ) -> None:
        gateway = await start_gateway(runs_enabled=False)
        items, sha = write_items(tmp_path, 2)
        bodies = [run_body(items, 2, triton.http_url, sha256=sha, protocol="http") for _ in range(6)]

        responses = await asyncio.gather(
            *(gateway.post("/v1/runs", json=b, headers=bearer(auth_settings, Role.SERVICE)) for b in bodies)
        )

        assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
