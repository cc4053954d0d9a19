"""Arena inference: two anonymised answers for one prompt, identities only on reveal, per-voter limits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.triton import TritonProcess
from gateway.conftest import SettingsFactory
from support.databases import DatabaseFactory
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]

PROMPT = "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Mercury\nAnswer:"


def battle(triton: TritonProcess, voter: str = "voter-1", **changes: Any) -> dict[str, Any]:
    contenders = [
        {
            "submission_id": str(uuid.uuid4()),
            "endpoint": {
                "url": triton.grpc_url,
                "model_name": "demo-lm",
                "protocol": "grpc",
                "gpu_pool": "H100",
            },
        },
        {
            "submission_id": str(uuid.uuid4()),
            "endpoint": {
                "url": f"127.0.0.1:{triton.http_port}",
                "model_name": "demo-lm",
                "protocol": "http",
                "gpu_pool": "B200",
            },
        },
    ]
    return {
        "stage_id": str(uuid.uuid4()),
        "voter_id": voter,
        "prompt": PROMPT,
        "contenders": contenders,
    } | changes


@pytest.fixture
async def gateway(
    database_factory: DatabaseFactory,
    gateway_settings: SettingsFactory,
    gateway_factory: Callable[..., Any],
    triton: TritonProcess,
) -> httpx.AsyncClient:
    settings = gateway_settings(
        await database_factory.create("gateway"), arena_voter_limit=2, runs_enabled=False
    )
    client: httpx.AsyncClient = await gateway_factory(settings)
    return client


class TestArena:
    async def test_two_answers_come_back_anonymised_and_the_reveal_names_the_submissions(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        body = battle(triton)
        response = await gateway.post(
            "/v1/arena/battles", json=body, headers=bearer(auth_settings, Role.SERVICE)
        )

        assert response.status_code == 201, response.text
        shown = response.json()
        assert set(shown) == {"battle_id", "prompt", "answers"}
        assert shown["answers"]["a"] in {"A", "B", "C", "D"}
        assert shown["answers"]["b"] in {"A", "B", "C", "D"}
        for contender in body["contenders"]:
            assert contender["submission_id"] not in response.text
            assert contender["endpoint"]["url"] not in response.text
        assert "demo-lm" not in response.text
        revealed = await gateway.get(
            f"/v1/arena/battles/{shown['battle_id']}", headers=bearer(auth_settings, Role.OPERATOR)
        )
        assert revealed.status_code == 200
        pair = {revealed.json()["a_submission_id"], revealed.json()["b_submission_id"]}
        assert pair == {c["submission_id"] for c in body["contenders"]}
        assert revealed.json()["answers"] == shown["answers"]

    async def test_a_voter_over_the_limit_is_refused_with_when_to_come_back(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        headers = bearer(auth_settings, Role.SERVICE)
        for _ in range(2):
            ok = await gateway.post("/v1/arena/battles", json=battle(triton, "voter-9"), headers=headers)
            assert ok.status_code == 201
        refused = await gateway.post("/v1/arena/battles", json=battle(triton, "voter-9"), headers=headers)
        assert refused.status_code == 429
        assert refused.json()["code"] == "voter-rate-limited"
        assert 1 <= refused.json()["retry_after_seconds"] <= 3600
        other = await gateway.post("/v1/arena/battles", json=battle(triton, "voter-10"), headers=headers)
        assert other.status_code == 201

    async def test_a_burst_of_one_voters_battles_starts_exactly_the_limit(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
    ) -> None:
        # The default limit (30 an hour), 45 requests at once: each reservation counts under the
        # voter's row lock, so no two of them read the same count (PostgreSQL let 31-40 through).
        settings = gateway_settings(await database_factory.create("gateway"), runs_enabled=False)
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        headers = bearer(auth_settings, Role.SERVICE)
        answers = await asyncio.gather(
            *(
                gateway.post("/v1/arena/battles", json=battle(triton, "voter-burst"), headers=headers)
                for _ in range(45)
            )
        )
        statuses = [r.status_code for r in answers]
        assert (statuses.count(201), statuses.count(429)) == (settings.arena_voter_limit, 15) == (30, 15)
        assert {r.json()["code"] for r in answers if r.status_code == 429} == {"voter-rate-limited"}

    async def test_only_services_start_battles_and_teams_cannot_reveal(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        team = bearer(auth_settings, Role.TEAM, uuid.uuid4())
        assert (await gateway.post("/v1/arena/battles", json=battle(triton), headers=team)).status_code == 403
        assert (await gateway.get(f"/v1/arena/battles/{uuid.uuid4()}", headers=team)).status_code == 403

    async def test_a_model_that_cannot_answer_is_503_without_naming_it(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, nowhere: str
    ) -> None:
        body = battle(triton)
        for contender in body["contenders"]:
            contender["endpoint"] |= {"url": nowhere, "protocol": "grpc"}
        response = await gateway.post(
            "/v1/arena/battles", json=body, headers=bearer(auth_settings, Role.SERVICE)
        )
        assert response.status_code == 503
        assert response.json()["code"] == "arena-model-unavailable"
        assert nowhere not in response.text
