"""Model submissions per team per stage; the freeze when evaluation starts; late statements."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from fmc_common.auth import Role
from fmc_common.events.topics import Topic
from registry.factories import World, find_event, programme, stage_to, submission_body, team
from registry.harness import Registry

EVALUATION_STARTED = "fmc.registry.evaluation-started.v1"
SUBMISSION_REGISTERED = "fmc.registry.submission-registered.v1"


async def open_stage_with_teams(registry: Registry, teams: int = 2) -> World:
    world = await programme(registry)
    for _ in range(teams):
        await team(registry, world)
    await stage_to(registry, world.stage_ids[1], "open-for-submissions")
    return world


async def submit(
    registry: Registry, world: World, team_id: uuid.UUID, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await registry.client.post(
        f"/v1/stages/{world.stage_ids[1]}/teams/{team_id}/submissions",
        json=body or submission_body(),
        headers=registry.as_team(team_id),
    )


class TestRegisterSubmission:
    async def test_a_team_in_the_stage_submits_versions_of_its_model(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        first = await submit(registry, world, world.team_ids[0])
        second = await submit(registry, world, world.team_ids[0], submission_body(version="2"))
        assert first.status_code == 201, first.text
        assert [first.json()["version"], second.json()["version"]] == [1, 2]
        assert first.json()["manifest_digest"].startswith("sha256:")
        assert second.json()["endpoint"]["model_version"] == "2"
        assert second.json()["manifest_digest"] == first.json()["manifest_digest"]  # the same weights
        assert first.json()["frozen_at"] is None

    async def test_each_version_states_where_its_weights_are_delivered(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        team_id = world.team_ids[0]
        first = (await submit(registry, world, team_id)).json()
        second = (await submit(registry, world, team_id)).json()
        for version in (first, second):
            assert version["weights_location"] == f"submissions/{team_id}/{version['id']}/"
        # The same location in every read of the submission, for the team and for services.
        one = await registry.client.get(f"/v1/submissions/{first['id']}", headers=registry.as_team(team_id))
        assert one.json()["weights_location"] == first["weights_location"]
        listed = await registry.client.get(
            f"/v1/stages/{world.stage_ids[1]}/submissions", headers=registry.as_role(Role.SERVICE)
        )
        locations = {s["id"]: s["weights_location"] for s in listed.json()}
        assert locations == {v["id"]: v["weights_location"] for v in (first, second)}

    async def test_the_same_manifest_has_the_same_digest_whatever_the_key_order(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        body = submission_body()
        reordered = body | {"manifest": dict(reversed(list(body["manifest"].items())))}
        one = (await submit(registry, world, world.team_ids[0], body)).json()
        two = (await submit(registry, world, world.team_ids[1], reordered)).json()
        assert one["manifest_digest"] == two["manifest_digest"]

    async def test_a_team_may_not_submit_for_another_team(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        response = await registry.client.post(
            f"/v1/stages/{world.stage_ids[1]}/teams/{world.team_ids[1]}/submissions",
            json=submission_body(),
            headers=registry.as_team(world.team_ids[0]),
        )
        assert response.status_code == 403

    async def test_before_the_stage_opens_a_submission_is_refused(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        response = await submit(registry, world, team_id)
        assert response.status_code == 409
        assert response.json()["code"] == "stage-not-open"

    async def test_a_team_not_in_the_stage_is_refused(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        outsider = await team(registry, world, selected=False)
        response = await registry.client.post(
            f"/v1/stages/{world.stage_ids[1]}/teams/{outsider}/submissions",
            json=submission_body(),
            headers=registry.operator(),
        )
        assert response.status_code == 409
        assert response.json()["code"] == "team-not-in-stage"

    async def test_sharded_weights_without_an_index_are_refused_at_the_edge(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        body = submission_body(shards=3)
        del body["manifest"]["index"]
        response = await submit(registry, world, world.team_ids[0], body)
        assert response.status_code == 422
        assert "index" in response.text

    async def test_paths_leaving_the_weights_folder_and_bad_hashes_are_refused(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        body = submission_body(shards=1)
        body["manifest"]["files"][0]["path"] = "../../etc/passwd"
        body["manifest"]["files"].append({"path": "b.bin", "sha256": "XYZ", "size_bytes": 1})
        response = await submit(registry, world, world.team_ids[0], body)
        assert response.status_code == 422
        locations = {tuple(e["location"][-2:]) for e in response.json()["errors"]}
        assert ("0", "path") in locations
        assert ("1", "sha256") in locations

    async def test_a_grpc_url_with_the_http_protocol_is_refused(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        response = await submit(registry, world, world.team_ids[0], submission_body(url="grpc://triton:8001"))
        assert response.status_code == 422

    async def test_the_serving_convention_is_stored_and_announced_with_ours_as_the_default(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        plain = await submit(registry, world, world.team_ids[0])
        assert plain.json()["endpoint"]["convention"] == "fmc-text"
        body = submission_body()
        body["endpoint"]["convention"] = "triton-vllm"
        vllm = await submit(registry, world, world.team_ids[1], body)
        assert vllm.status_code == 201, vllm.text
        assert vllm.json()["endpoint"]["convention"] == "triton-vllm"
        read = await registry.client.get(
            f"/v1/submissions/{vllm.json()['id']}", headers=registry.as_role(Role.SERVICE)
        )
        assert read.json()["endpoint"]["convention"] == "triton-vllm"
        envelope = await find_event(
            registry.bootstrap, Topic.REGISTRY, SUBMISSION_REGISTERED, {"submission_id": vllm.json()["id"]}
        )
        assert envelope["data"]["endpoint"]["convention"] == "triton-vllm"

    async def test_an_unknown_convention_or_the_generate_extension_over_grpc_is_refused(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        unknown = submission_body()
        unknown["endpoint"]["convention"] = "my-own"
        assert (await submit(registry, world, world.team_ids[0], unknown)).status_code == 422
        grpc = submission_body(url="grpc://triton.team.svc:8001")
        grpc["endpoint"] |= {"protocol": "grpc", "convention": "triton-generate"}
        refused = await submit(registry, world, world.team_ids[0], grpc)
        assert refused.status_code == 422
        assert "HTTP only" in refused.text

    async def test_an_openai_chat_endpoint_and_a_chat_template_are_stored_and_announced(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        chat = submission_body()
        chat["endpoint"]["convention"] = "openai-chat"
        served = await submit(registry, world, world.team_ids[0], chat)
        templated = submission_body()
        templated["endpoint"] |= {"convention": "triton-vllm", "chat_template": "llama-3"}
        rendered = await submit(registry, world, world.team_ids[1], templated)

        assert served.status_code == 201, served.text
        assert rendered.status_code == 201, rendered.text
        assert served.json()["endpoint"]["convention"] == "openai-chat"
        assert served.json()["endpoint"]["chat_template"] is None
        read = await registry.client.get(
            f"/v1/submissions/{rendered.json()['id']}", headers=registry.as_role(Role.SERVICE)
        )
        assert (read.json()["endpoint"]["convention"], read.json()["endpoint"]["chat_template"]) == (
            "triton-vllm",
            "llama-3",
        )
        envelope = await find_event(
            registry.bootstrap,
            Topic.REGISTRY,
            SUBMISSION_REGISTERED,
            {"submission_id": rendered.json()["id"]},
        )
        assert envelope["data"]["endpoint"]["chat_template"] == "llama-3"

    async def test_chat_refusals_unknown_template_template_for_openai_chat_openai_chat_over_grpc(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        unknown = submission_body()
        unknown["endpoint"]["chat_template"] = "vicuna"
        for_openai = submission_body()
        for_openai["endpoint"] |= {"convention": "openai-chat", "chat_template": "chatml"}
        over_grpc = submission_body(url="grpc://triton.team.svc:8001")
        over_grpc["endpoint"] |= {"protocol": "grpc", "convention": "openai-chat"}

        answers = [
            await submit(registry, world, world.team_ids[0], b) for b in (unknown, for_openai, over_grpc)
        ]

        assert [a.status_code for a in answers] == [422, 422, 422]
        assert "unknown chat template 'vicuna'" in answers[0].text
        assert "chatml" in answers[0].text
        assert "applies the model's own chat template" in answers[1].text
        assert "openai-chat convention is HTTP only" in answers[2].text

    async def test_a_retry_with_the_same_idempotency_key_registers_one_version(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        team_id = world.team_ids[0]
        path = f"/v1/stages/{world.stage_ids[1]}/teams/{team_id}/submissions"
        headers = registry.as_team(team_id) | {"Idempotency-Key": "sub-1"}
        first = await registry.client.post(path, json=submission_body(), headers=headers)
        again = await registry.client.post(path, json=submission_body(), headers=headers)
        assert first.json() == again.json()
        listed = await registry.client.get(
            f"/v1/stages/{world.stage_ids[1]}/submissions", headers=registry.as_team(team_id)
        )
        assert len(listed.json()) == 1


class TestEvaluationStart:
    async def test_a_submission_after_the_evaluation_started_is_refused(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        assert (await submit(registry, world, world.team_ids[0])).status_code == 201
        started = await registry.client.post(
            f"/v1/stages/{world.stage_ids[1]}/evaluation", headers=registry.operator()
        )
        assert started.status_code == 200, started.text
        late = await submit(registry, world, world.team_ids[0], submission_body(version="2"))
        assert late.status_code == 409
        assert late.json()["code"] == "submission-window-closed"
        assert late.json()["evaluation_started_at"]

    async def test_the_latest_version_of_each_team_is_frozen_and_announced(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry, teams=3)
        a, b, _silent = world.team_ids
        await submit(registry, world, a)
        latest_a = (await submit(registry, world, a, submission_body(version="7"))).json()
        only_b = (await submit(registry, world, b)).json()
        started = await registry.client.post(
            f"/v1/stages/{world.stage_ids[1]}/evaluation", headers=registry.operator()
        )
        frozen = {i["submission_id"] for i in started.json()}
        assert frozen == {latest_a["id"], only_b["id"]}
        envelope = await find_event(
            registry.bootstrap, Topic.REGISTRY, EVALUATION_STARTED, {"stage_id": str(world.stage_ids[1])}
        )
        announced = envelope["data"]["submissions"]
        assert {s["submission_id"] for s in announced} == frozen
        assert envelope["data"]["objection_days"] == 9  # the stage's, for scoring to pass on to grievance
        assert envelope["data"]["planned_advancing"] == 4  # the stage's places, for scoring to check
        by_id = {s["submission_id"]: s for s in announced}
        assert by_id[latest_a["id"]]["manifest_digest"] == latest_a["manifest_digest"]
        assert by_id[latest_a["id"]]["endpoint"]["model_version"] == "7"
        assert by_id[only_b["id"]]["team_id"] == str(b)

    async def test_starting_twice_is_refused_as_an_illegal_transition(self, registry: Registry) -> None:
        world = await open_stage_with_teams(registry)
        path = f"/v1/stages/{world.stage_ids[1]}/evaluation"
        assert (await registry.client.post(path, headers=registry.operator())).status_code == 200
        again = await registry.client.post(path, headers=registry.operator())
        assert again.status_code == 409
        assert again.json()["code"] == "illegal-status-transition"


class TestLateStatement:
    async def test_a_statement_after_the_start_is_stored_flagged_and_no_evaluation_input(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        team_id = world.team_ids[0]
        stage = world.stage_ids[1]
        path = f"/v1/stages/{stage}/teams/{team_id}/statements"
        on_time = await registry.client.post(
            path, json={"text": "our design notes"}, headers=registry.as_team(team_id)
        )
        assert on_time.json()["late"] is False
        submission = (await submit(registry, world, team_id)).json()
        await registry.client.post(f"/v1/stages/{stage}/evaluation", headers=registry.operator())
        late = await registry.client.post(
            path,
            json={"text": "explanatory statement about the vision encoder"},
            headers=registry.as_team(team_id),
        )
        assert late.status_code == 201
        assert late.json()["late"] is True
        stored = await registry.client.get(
            f"/v1/stages/{stage}/statements", headers=registry.as_team(team_id)
        )
        assert [(s["id"], s["late"]) for s in stored.json()] == [
            (on_time.json()["id"], False),
            (late.json()["id"], True),
        ]
        inputs = await registry.client.get(
            f"/v1/stages/{stage}/evaluation-inputs", headers=registry.operator()
        )
        assert [i["submission_id"] for i in inputs.json()] == [submission["id"]]
        envelope = await find_event(
            registry.bootstrap, Topic.REGISTRY, EVALUATION_STARTED, {"stage_id": str(stage)}
        )
        assert late.json()["id"] not in str(envelope)
        assert "vision encoder" not in str(envelope)
        assert [s["submission_id"] for s in envelope["data"]["submissions"]] == [submission["id"]]

    async def test_the_late_statement_is_in_the_audit_trail_as_not_considered(
        self, registry: Registry
    ) -> None:
        world = await open_stage_with_teams(registry)
        team_id, stage = world.team_ids[0], world.stage_ids[1]
        await registry.client.post(f"/v1/stages/{stage}/evaluation", headers=registry.operator())
        late = await registry.client.post(
            f"/v1/stages/{stage}/teams/{team_id}/statements",
            json={"text": "late"},
            headers=registry.as_team(team_id),
        )
        trail = await registry.client.get(
            "/v1/audit",
            params={"entity_type": "statement", "entity_id": late.json()["id"]},
            headers=registry.operator(),
        )
        [entry] = trail.json()["items"]
        assert entry["reason"] == "received after the evaluation began; not considered"
        assert entry["actor_role"] == "team"


class TestFreezeRace:
    async def test_no_accepted_submission_escapes_the_freeze(self, registry: Registry) -> None:
        """Submissions racing the start: each is either frozen (or superseded by a frozen later
        version of its team) or refused; none is accepted after the freeze and left out."""
        world = await open_stage_with_teams(registry, teams=3)

        async def submit_many(team_id: uuid.UUID) -> list[httpx.Response]:
            return [
                await submit(registry, world, team_id, submission_body(version=str(v))) for v in range(1, 6)
            ]

        async def start() -> httpx.Response:
            return await registry.client.post(
                f"/v1/stages/{world.stage_ids[1]}/evaluation", headers=registry.operator()
            )

        started_task = asyncio.create_task(start())
        per_team: list[list[httpx.Response]] = await asyncio.gather(*(submit_many(t) for t in world.team_ids))
        started = await started_task
        assert started.status_code == 200, started.text
        frozen = {i["team_id"]: i["version"] for i in started.json()}
        for responses in per_team:
            accepted = [r.json() for r in responses if r.status_code == 201]
            refused = [r.json()["code"] for r in responses if r.status_code != 201]
            assert set(refused) <= {"submission-window-closed"}
            if accepted:
                assert frozen[accepted[-1]["team_id"]] == accepted[-1]["version"]
            assert len(accepted) + len(refused) == 5
