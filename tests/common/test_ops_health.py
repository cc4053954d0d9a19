"""GET /v1/ops/health: the operators' view of a service's messaging (outbox backlog, dead letters,
consumers), in every service; grievance stands for them here, running for real on both backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic_settings import BaseSettings

from fmc_common.auth import Role
from fmc_common.runtime import ServiceRuntime
from fmc_common.settings import AuthSettings
from fmc_gateway.main import create_app as gateway_app
from fmc_gateway.settings import GatewaySettings
from fmc_grievance.main import create_app as grievance_app
from fmc_grievance.settings import GrievanceSettings
from fmc_registry.main import create_app as registry_app
from fmc_registry.settings import RegistrySettings
from fmc_scoring.main import create_app as scoring_app
from fmc_scoring.settings import ScoringSettings
from support.databases import DatabaseFactory
from support.ops import NOW, backlog_and_letters, grievance_without_relay
from support.services import bearer

pytestmark = pytest.mark.broker


@pytest.fixture
async def grievance(
    database_factory: DatabaseFactory, broker: str, auth_settings: AuthSettings
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime]]:
    url = await database_factory.create("ops")
    async with (
        grievance_without_relay(url, broker, auth_settings) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://grievance") as client,
    ):
        yield client, app.state.runtime


class TestOpsHealth:
    async def test_an_operator_sees_the_backlog_the_dead_letters_and_the_consumers(
        self, grievance: tuple[httpx.AsyncClient, ServiceRuntime], auth_settings: AuthSettings
    ) -> None:
        client, runtime = grievance
        quiet = await client.get("/v1/ops/health", headers=bearer(auth_settings, Role.OPERATOR))
        assert quiet.status_code == 200
        assert quiet.json()["outbox"] == {"unsent": 0, "oldest_unsent_at": None}
        assert quiet.json()["dead_letters"] == {"count": 0, "latest": []}

        await backlog_and_letters(runtime)
        found = (await client.get("/v1/ops/health", headers=bearer(auth_settings, Role.OPERATOR))).json()
        assert found["service"] == "grievance"
        assert found["outbox"]["unsent"] == 2
        assert datetime.fromisoformat(found["outbox"]["oldest_unsent_at"]) == NOW
        assert found["dead_letters"]["count"] == 7
        latest = found["dead_letters"]["latest"]
        assert len(latest) == 5  # the latest few, newest first
        assert latest[0]["reason"] == "schema-violation"
        assert [datetime.fromisoformat(d["at"]) for d in latest] == [
            NOW + timedelta(minutes=n) for n in (6, 5, 4, 3, 2)
        ]
        assert set(latest[0]) == {"consumer", "source_topic", "reason", "dead_letter_topic", "at"}
        assert {c["name"] for c in found["consumers"]} == {
            "grievance.participants",
            "grievance.stage-results",
        }
        assert all(c["running"] for c in found["consumers"])

    @pytest.mark.parametrize("role", [Role.TEAM, Role.EVALUATOR, Role.SERVICE])
    async def test_anyone_but_an_operator_is_refused(
        self, grievance: tuple[httpx.AsyncClient, ServiceRuntime], auth_settings: AuthSettings, role: Role
    ) -> None:
        client, _ = grievance
        team = uuid.uuid4() if role == Role.TEAM else None
        refused = await client.get("/v1/ops/health", headers=bearer(auth_settings, role, team_id=team))
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "forbidden"

    async def test_without_a_token_it_is_unauthenticated(
        self, grievance: tuple[httpx.AsyncClient, ServiceRuntime]
    ) -> None:
        client, _ = grievance
        refused = await client.get("/v1/ops/health")
        assert refused.status_code == 401
        assert refused.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("create", "settings"),
    [
        (registry_app, RegistrySettings),
        (gateway_app, GatewaySettings),
        (scoring_app, ScoringSettings),
        (grievance_app, GrievanceSettings),
    ],
)
def test_every_service_serves_it(
    create: Callable[[Any], FastAPI], settings: type[BaseSettings], auth_settings: AuthSettings
) -> None:
    """The route comes with fmc_common's app builder, so each service has it without a line of its own."""
    app = create(settings(auth=auth_settings))
    published = app.openapi()["paths"]["/v1/ops/health"]
    assert set(published) == {"get"}
    assert {"401", "403"} <= set(published["get"]["responses"])
