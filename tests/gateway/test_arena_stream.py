"""The arena's streamed battle over real HTTP (uvicorn) against the real Triton: both sides' pieces,
the stored answers equal to them, refusals before the stream, a failed side, a caller leaving."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from fmc_common import db
from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText, parse_battle_event
from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.arena.models import ArenaBattle
from fmc_gateway.main import create_app
from gateway.conftest import SettingsFactory
from gateway.test_arena import battle
from support.databases import DatabaseFactory
from support.eventually import eventually
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]
Event = BattleText | BattleDone | BattleFailed


def contender(triton: TritonProcess, model: str, **endpoint: str) -> dict[str, Any]:
    return {
        "submission_id": str(uuid.uuid4()),
        "endpoint": {"url": triton.grpc_url, "model_name": model, "protocol": "grpc", "gpu_pool": "H100"}
        | endpoint,
    }


class Gateway:
    def __init__(self, client: httpx.AsyncClient, database_url: str, auth: AuthSettings) -> None:
        self.client = client
        self.database_url = database_url
        self.service = bearer(auth, Role.SERVICE)
        self.operator = bearer(auth, Role.OPERATOR)
        self.team = bearer(auth, Role.TEAM, uuid.uuid4())

    async def battles(self) -> int:
        engine = db.create_engine(self.database_url)
        try:
            async with db.session_factory(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(ArenaBattle)) or 0)
        finally:
            await engine.dispose()

    async def stream(self, body: dict[str, Any]) -> tuple[httpx.Response, list[Event]]:
        async with self.client.stream(
            "POST", "/v1/arena/battles/stream", json=body, headers=self.service
        ) as response:
            if response.status_code != 200:
                await response.aread()
                return response, []
            return response, [parse_battle_event(line) async for line in response.aiter_lines() if line]


@pytest.fixture
async def gateway(
    database_factory: DatabaseFactory, gateway_settings: SettingsFactory, auth_settings: AuthSettings
) -> AsyncIterator[Gateway]:
    """A gateway behind uvicorn: a real HTTP server, so that the stream and a disconnect are real."""
    database_url = await database_factory.create("gateway")
    settings = gateway_settings(database_url, arena_voter_limit=2, runs_enabled=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), timeout=20, what="the gateway to listen")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False
        ) as client:
            yield Gateway(client, database_url, auth_settings)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=10)


def arena_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("arena-") and not t.done()]


def texts(events: list[Event]) -> dict[str, str]:
    joined = {"a": "", "b": ""}
    for event in events:
        if isinstance(event, BattleText):
            joined[event.side] += event.text
    return joined


class TestStreamedBattle:
    async def test_pieces_of_both_sides_arrive_and_make_the_stored_answers(
        self, gateway: Gateway, triton: TritonProcess
    ) -> None:
        body = battle(triton) | {
            "prompt": "Question: name the largest planet of the solar system",
            "contenders": [
                contender(triton, "demo-lm"),
                contender(triton, "vllm-lm", convention="triton-vllm"),
            ],
        }
        response, events = await gateway.stream(body)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert {e.side for e in events if isinstance(e, BattleText)} == {"a", "b"}
        assert all(isinstance(e, BattleText) for e in events[:-1])
        done = events[-1]
        assert isinstance(done, BattleDone)
        revealed = (
            await gateway.client.get(f"/v1/arena/battles/{done.battle_id}", headers=gateway.operator)
        ).json()
        assert texts(events) == revealed["answers"]
        assert all(revealed["answers"].values())
        streamed = "".join(e.model_dump_json() for e in events)
        for c in body["contenders"]:
            assert c["submission_id"] not in streamed
            assert c["endpoint"]["model_name"] not in streamed
            assert c["endpoint"]["url"] not in streamed

    async def test_a_voter_over_the_limit_is_refused_before_anything_is_streamed(
        self, gateway: Gateway, triton: TritonProcess
    ) -> None:
        for _ in range(2):
            ok, events = await gateway.stream(battle(triton, "voter-s"))
            assert ok.status_code == 200
            assert isinstance(events[-1], BattleDone)
        refused, _ = await gateway.stream(battle(triton, "voter-s"))
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "voter-rate-limited"
        assert await gateway.battles() == 2

    async def test_only_services_stream_battles(self, gateway: Gateway, triton: TritonProcess) -> None:
        response = await gateway.client.post(
            "/v1/arena/battles/stream", json=battle(triton), headers=gateway.team
        )
        assert response.status_code == 403
        assert await gateway.battles() == 0

    async def test_a_failing_side_ends_the_stream_with_an_error_and_nothing_is_stored(
        self, gateway: Gateway, triton: TritonProcess
    ) -> None:
        # misbehaving-lm answers "wrongtype" with an output of the wrong type: its side fails.
        body = battle(triton) | {
            "prompt": "wrongtype please",
            "contenders": [contender(triton, "demo-lm"), contender(triton, "misbehaving-lm")],
        }
        response, events = await gateway.stream(body)

        assert response.status_code == 200
        failed = events[-1]
        assert isinstance(failed, BattleFailed)
        assert (failed.status, failed.code) == (503, "arena-model-unavailable")
        assert not any(isinstance(e, BattleDone) for e in events)
        assert "misbehaving" not in "".join(e.model_dump_json() for e in events)
        assert await gateway.battles() == 0
        assert await eventually(lambda: asyncio.sleep(0, not arena_tasks()), what="no arena task left")

    async def test_a_caller_leaving_mid_stream_stops_both_answers_and_stores_nothing(
        self, gateway: Gateway, triton: TritonProcess
    ) -> None:
        # demo-lm echoes at once; misbehaving-lm sleeps 3 s: the stream is mid-way after one piece.
        body = battle(triton) | {
            "prompt": "sleep 3",
            "contenders": [contender(triton, "demo-lm"), contender(triton, "misbehaving-lm")],
        }
        async with gateway.client.stream(
            "POST", "/v1/arena/battles/stream", json=body, headers=gateway.service
        ) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            first = parse_battle_event(await anext(lines))
            assert isinstance(first, BattleText)
            assert first.text == "sleep 3"
            assert len(arena_tasks()) == 1  # the sleeping side is still answering
        # Leaving the block closed the connection mid-stream.

        # No answer left running (nothing could store the battle later), the reservation dropped.
        await eventually(lambda: asyncio.sleep(0, not arena_tasks()), timeout=2, what="the answers stopped")
        await eventually(lambda: _none_stored(gateway), timeout=5, what="the reserved battle dropped")


async def _none_stored(gateway: Gateway) -> bool:
    return await gateway.battles() == 0
