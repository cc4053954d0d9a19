"""The plumbing end to end: registry POST /v1/teams -> TeamRegistered -> scoring and grievance record it.

The correlation id sent with the HTTP request travels into the event and on into the consumers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_grievance.main import create_app as create_grievance
from fmc_grievance.settings import GrievanceSettings
from fmc_protos.registry.v1 import registry_pb2, registry_pb2_grpc
from fmc_protos.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from fmc_registry.main import create_app as create_registry
from fmc_registry.settings import RegistrySettings
from fmc_scoring.main import create_app as create_scoring
from fmc_scoring.settings import ScoringSettings
from support.databases import DatabaseFactory, postgres_available
from support.eventually import eventually
from support.kafka import broker_settings
from support.services import bearer, serving

pytestmark = pytest.mark.broker

BACKENDS = ["sqlite", "postgres"]


class Stack:
    def __init__(
        self, registry: httpx.AsyncClient, scoring: httpx.AsyncClient, grievance: httpx.AsyncClient
    ) -> None:
        self.registry = registry
        self.scoring = scoring
        self.grievance = grievance
        self.grpc_ports: dict[str, int] = {}


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The three services, once per module and backend: every test registers teams of its own."""
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    databases = DatabaseFactory(backend, tmp_path_factory.mktemp("e2e"))
    kafka = broker_settings(broker)
    ports = {name: free_port() for name in ("registry", "scoring", "grievance")}
    try:
        registry = create_registry(
            RegistrySettings(
                database_url=await databases.create("registry"),
                grpc_port=ports["registry"],
                kafka=kafka,
                auth=auth_settings,
            )
        )
        scoring = create_scoring(
            ScoringSettings(
                database_url=await databases.create("scoring"),
                grpc_port=ports["scoring"],
                kafka=kafka,
                auth=auth_settings,
            )
        )
        grievance = create_grievance(
            GrievanceSettings(
                database_url=await databases.create("grievance"),
                grpc_port=ports["grievance"],
                kafka=kafka,
                auth=auth_settings,
            )
        )
        async with AsyncExitStack() as exits:
            clients = [
                await exits.enter_async_context(serving(app)) for app in (registry, scoring, grievance)
            ]
            stack = Stack(*clients)
            stack.grpc_ports = ports
            yield stack
    finally:
        await databases.drop_all()


async def participant(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    """The participant record, once the service has consumed the registration."""

    async def recorded() -> httpx.Response | None:
        response = await client.get(path, headers=headers)
        return response if response.status_code == 200 else None

    return await eventually(recorded, timeout=60, interval=0.2, what=f"{path} being recorded")


class TestTeamRegisteredFlow:
    async def test_scoring_and_grievance_record_the_team_with_the_requests_correlation_id(
        self, stack: Stack, auth_settings: AuthSettings
    ) -> None:
        correlation_id = f"it-{uuid.uuid4().hex}"
        response = await stack.registry.post(
            "/v1/teams",
            json={"name": f"Upstage consortium {uuid.uuid4().hex[:4]}", "lead_organisation": "Upstage"},
            headers=bearer(auth_settings, Role.OPERATOR) | {"X-Correlation-ID": correlation_id},
        )
        assert response.status_code == 201
        assert response.headers["x-correlation-id"] == correlation_id
        team_id = response.json()["id"]
        as_service = bearer(auth_settings, Role.SERVICE)

        for service in (stack.scoring, stack.grievance):
            recorded = await participant(service, f"/v1/participants/{team_id}", as_service)
            assert recorded.status_code == 200, recorded.text
            assert recorded.json()["name"] == response.json()["name"]
            assert recorded.json()["correlation_id"] == correlation_id

    async def test_the_team_itself_may_read_its_record_but_another_team_may_not(
        self, stack: Stack, auth_settings: AuthSettings
    ) -> None:
        created = await stack.registry.post(
            "/v1/teams",
            json={"name": f"NC AI consortium {uuid.uuid4().hex[:4]}", "lead_organisation": "NC AI"},
            headers=bearer(auth_settings, Role.OPERATOR),
        )
        team_id = uuid.UUID(created.json()["id"])
        mine = await participant(
            stack.scoring, f"/v1/participants/{team_id}", bearer(auth_settings, Role.TEAM, team_id)
        )
        assert mine.status_code == 200
        other = await stack.scoring.get(
            f"/v1/participants/{team_id}", headers=bearer(auth_settings, Role.TEAM, uuid.uuid4())
        )
        assert other.status_code == 403


class TestGrpc:
    async def test_grpc_register_then_read_from_scoring_with_health_on(
        self, stack: Stack, auth_settings: AuthSettings
    ) -> None:
        token = bearer(auth_settings, Role.OPERATOR)["Authorization"]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.grpc_ports['registry']}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(
                health_pb2.HealthCheckRequest(service="fmc.registry.v1.RegistryService")
            )
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            answers = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            listed = {s.name async for answer in answers for s in answer.list_services_response.service}
            assert {"fmc.registry.v1.RegistryService", "grpc.health.v1.Health"} <= listed
            registry = registry_pb2_grpc.RegistryServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await registry.RegisterTeam(registry_pb2.RegisterTeamRequest(name="x", lead_organisation="y"))
            assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
            team = await registry.RegisterTeam(
                registry_pb2.RegisterTeamRequest(
                    name=f"SKT {uuid.uuid4().hex[:4]}", lead_organisation="SK Telecom"
                ),
                metadata=(("authorization", token),),
            )
        evaluator = bearer(auth_settings, Role.EVALUATOR)["Authorization"]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.grpc_ports['scoring']}") as channel:
            scoring = scoring_pb2_grpc.ScoringServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as forbidden:
                await scoring.GetParticipant(
                    scoring_pb2.GetParticipantRequest(team_id=team.team_id),
                    metadata=(("authorization", evaluator),),
                )
            assert forbidden.value.code() == grpc.StatusCode.PERMISSION_DENIED

            async def recorded() -> scoring_pb2.Participant | None:
                try:
                    found: scoring_pb2.Participant = await scoring.GetParticipant(
                        scoring_pb2.GetParticipantRequest(team_id=team.team_id),
                        metadata=(("authorization", token),),
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    return None
                return found

            found = await eventually(
                recorded, timeout=60, interval=0.2, what="scoring recording the team registered over gRPC"
            )
        assert found.name == team.name
