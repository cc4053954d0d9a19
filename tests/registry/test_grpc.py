"""gRPC: list and get teams, register and get submissions; the same rules as REST."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest

from fmc_common.auth import Role
from fmc_protos.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.factories import programme, stage_to, submission_body, team
from registry.harness import Registry


@pytest.fixture
async def stub(registry: Registry) -> AsyncIterator[registry_pb2_grpc.RegistryServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{registry.grpc_port}") as channel:
        yield registry_pb2_grpc.RegistryServiceStub(channel)


def metadata(headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return (("authorization", headers["Authorization"]),)


def request_for(
    stage_id: uuid.UUID, team_id: uuid.UUID, key: str = ""
) -> registry_pb2.RegisterSubmissionRequest:
    body = submission_body()
    return registry_pb2.RegisterSubmissionRequest(
        stage_id=str(stage_id),
        team_id=str(team_id),
        endpoint=registry_pb2.TritonEndpoint(**body["endpoint"]),
        manifest_json=json.dumps(body["manifest"]),
        model_card_json=json.dumps(body["model_card"]),
        idempotency_key=key,
    )


def problem_code(error: grpc.aio.AioRpcError) -> str:
    return str(dict(error.trailing_metadata() or ()).get("fmc-problem-code", ""))


class TestTeams:
    async def test_list_teams_of_a_programme_page_by_page(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        created = {str(await team(registry, world)) for _ in range(3)}
        seen: list[str] = []
        token = ""
        while True:
            page = await stub.ListTeams(
                registry_pb2.ListTeamsRequest(
                    programme_id=str(world.programme_id), page_size=2, page_token=token
                ),
                metadata=metadata(registry.as_role(Role.SERVICE)),
            )
            seen.extend(t.team_id for t in page.teams)
            token = page.next_page_token
            if not token:
                break
        assert sorted(seen) == sorted(created)
        assert {t.status for t in page.teams} == {"selected"}

    async def test_a_team_may_not_list_teams(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListTeams(
                registry_pb2.ListTeamsRequest(), metadata=metadata(registry.as_team(uuid.uuid4()))
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async def test_get_team_carries_its_programme_and_stage(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        await stage_to(registry, world.stage_ids[1], "open-for-submissions")
        found = await stub.GetTeam(
            registry_pb2.GetTeamRequest(team_id=str(team_id)), metadata=metadata(registry.as_team(team_id))
        )
        assert (found.programme_id, found.status, found.stage_number) == (
            str(world.programme_id),
            "in-stage",
            1,
        )


class TestSubmissions:
    async def test_register_then_get_a_submission(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        await stage_to(registry, world.stage_ids[1], "open-for-submissions")
        as_team = metadata(registry.as_team(team_id))
        registered = await stub.RegisterSubmission(
            request_for(world.stage_ids[1], team_id, "k1"), metadata=as_team
        )
        retried = await stub.RegisterSubmission(
            request_for(world.stage_ids[1], team_id, "k1"), metadata=as_team
        )
        assert retried.submission_id == registered.submission_id
        assert registered.version == 1
        assert registered.manifest_digest.startswith("sha256:")
        found = await stub.GetSubmission(
            registry_pb2.GetSubmissionRequest(submission_id=registered.submission_id),
            metadata=metadata(registry.as_role(Role.SERVICE)),
        )
        assert found.endpoint.gpu_pool == "B200"
        rest = await registry.client.get(
            f"/v1/submissions/{registered.submission_id}", headers=registry.operator()
        )
        assert rest.json()["manifest_digest"] == found.manifest_digest
        assert found.weights_location == f"submissions/{team_id}/{registered.submission_id}/"
        assert rest.json()["weights_location"] == found.weights_location

    async def test_the_convention_and_chat_template_go_both_ways(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        await stage_to(registry, world.stage_ids[1], "open-for-submissions")
        as_team = metadata(registry.as_team(team_id))
        request = request_for(world.stage_ids[1], team_id)
        request.endpoint.convention = "tensorrt-llm-ensemble"
        request.endpoint.chat_template = "mistral-instruct"

        registered = await stub.RegisterSubmission(request, metadata=as_team)
        plain = await stub.RegisterSubmission(request_for(world.stage_ids[1], team_id), metadata=as_team)
        found = await stub.GetSubmission(
            registry_pb2.GetSubmissionRequest(submission_id=registered.submission_id),
            metadata=metadata(registry.as_role(Role.SERVICE)),
        )

        assert (found.endpoint.convention, found.endpoint.chat_template) == (
            "tensorrt-llm-ensemble",
            "mistral-instruct",
        )
        assert (plain.endpoint.convention, plain.endpoint.chat_template) == ("fmc-text", "")
        rest = await registry.client.get(
            f"/v1/submissions/{found.submission_id}", headers=registry.operator()
        )
        assert rest.json()["endpoint"]["chat_template"] == "mistral-instruct"
        request.endpoint.chat_template = "vicuna"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.RegisterSubmission(request, metadata=as_team)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    async def test_after_the_evaluation_started_the_window_is_closed(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        await stage_to(registry, world.stage_ids[1], "open-for-submissions")
        await stage_to(registry, world.stage_ids[1], "evaluating")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.RegisterSubmission(
                request_for(world.stage_ids[1], team_id), metadata=metadata(registry.as_team(team_id))
            )
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert problem_code(refused.value) == "submission-window-closed"

    async def test_an_invalid_manifest_is_refused_as_invalid_argument(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        request = request_for(world.stage_ids[1], team_id)
        request.manifest_json = '{"files": []}'
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.RegisterSubmission(request, metadata=metadata(registry.operator()))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    async def test_another_team_may_neither_submit_nor_read(
        self, registry: Registry, stub: registry_pb2_grpc.RegistryServiceStub
    ) -> None:
        world = await programme(registry)
        mine, theirs = await team(registry, world), await team(registry, world)
        await stage_to(registry, world.stage_ids[1], "open-for-submissions")
        registered = await stub.RegisterSubmission(
            request_for(world.stage_ids[1], mine), metadata=metadata(registry.as_team(mine))
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.RegisterSubmission(
                request_for(world.stage_ids[1], mine), metadata=metadata(registry.as_team(theirs))
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await stub.GetSubmission(
                registry_pb2.GetSubmissionRequest(submission_id=registered.submission_id),
                metadata=metadata(registry.as_team(theirs)),
            )
        assert hidden.value.code() == grpc.StatusCode.PERMISSION_DENIED
