"""What the relay process's endpoints say about its loop (pure logic: the loop is a stand-in)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from fmc_common.messaging.relay_main import RelayProcess
from fmc_common.settings import KafkaSettings


@dataclass
class LoopTimes:
    last_round_at: float | None
    last_success_at: float | None


def relay_process(times: LoopTimes | None) -> RelayProcess:
    process = RelayProcess(
        database_url="sqlite+aiosqlite://",
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
        name="scoring-relay",
        batch_size=10,
        poll_interval=0.05,
        stale_after=30.0,
    )
    process._relay = times  # type: ignore[assignment]
    return process


async def status(process: RelayProcess, path: str) -> tuple[int, str]:
    transport = httpx.ASGITransport(app=process.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
        response = await client.get(path)
    return response.status_code, response.json()["status"]


class TestRelayEndpoints:
    async def test_before_the_loop_runs_it_is_neither_live_nor_ready(self) -> None:
        process = relay_process(None)
        assert await status(process, "/healthz") == (503, "starting")
        assert await status(process, "/readyz") == (503, "starting")

    async def test_rounds_that_fail_keep_it_live_but_not_ready(self) -> None:
        now = asyncio.get_running_loop().time()
        process = relay_process(LoopTimes(last_round_at=now - 1, last_success_at=now - 31))
        assert await status(process, "/healthz") == (200, "ok")
        assert await status(process, "/readyz") == (503, "stale")

    async def test_a_loop_stuck_past_the_limit_is_not_live(self) -> None:
        now = asyncio.get_running_loop().time()
        process = relay_process(LoopTimes(last_round_at=now - 31, last_success_at=now - 31))
        assert await status(process, "/healthz") == (503, "stale")

    async def test_recent_successful_rounds_are_live_and_ready(self) -> None:
        now = asyncio.get_running_loop().time()
        process = relay_process(LoopTimes(last_round_at=now - 0.1, last_success_at=now - 0.1))
        assert await status(process, "/healthz") == (200, "ok")
        assert await status(process, "/readyz") == (200, "ok")
