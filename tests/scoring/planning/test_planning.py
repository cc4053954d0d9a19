"""Planning: EvaluationStarted -> one InferenceRunRequested per submission x suite, whose items the
gateway fetches from scoring (prompts only, the exact bytes announced)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from fmc_common.events.registry import TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_scoring.planning import repository as planning
from scoring.harness import (
    Scoring,
    body,
    criteria_body,
    demo_suites,
    evaluation_started,
    new_stage,
    publish,
    start_evaluation,
    watch_records,
    watch_topic,
)

pytestmark = pytest.mark.broker


async def requested_runs(
    scoring: Scoring, stage_id: uuid.UUID, expected: int, version: str = "v1"
) -> list[dict[str, Any]]:
    def found(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        wanted = f"fmc.scoring.inference-run-requested.{version}"
        runs = [
            e["data"] for e in envelopes if e["type"] == wanted and e["data"]["stage_id"] == str(stage_id)
        ]
        return runs if len(runs) >= expected else None

    return await watch_topic(scoring.bootstrap, str(Topic.SCORING), found)


class TestPlanning:
    async def test_each_submission_gets_one_run_per_suite_with_the_stages_decoding(
        self, scoring: Scoring
    ) -> None:
        suites = await demo_suites(scoring)
        ids = [uuid.UUID(suites[k]["id"]) for k in ("demo-ko-general-mcq", "demo-en-arithmetic")]
        world = await new_stage(scoring, ["Upstage", "SK Telecom", "LG AI Research"])
        decoding = {"max_tokens": 64, "temperature": 0.0, "top_p": 1.0, "seed": 7}
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria",
                json=criteria_body(ids, decoding=decoding),
                headers=scoring.operator(),
            )
        )
        await start_evaluation(scoring, world)

        runs = await requested_runs(scoring, world.stage_id, expected=6)

        assert len(runs) == 6
        assert {(r["team_id"], r["suite"]["suite_id"]) for r in runs} == {
            (str(team), str(suite)) for team in world.teams.values() for suite in ids
        }
        assert all(r["decoding"] == decoding for r in runs)
        assert all(r["endpoint"]["gpu_pool"] == "H100" for r in runs)
        run = runs[0]
        assert run["items"]["uri"].endswith(f"/v1/runs/{run['run_id']}/items")

    async def test_the_gateway_fetches_prompts_only_with_the_announced_hash(self, scoring: Scoring) -> None:
        suites = await demo_suites(scoring)
        mcq = suites["demo-ko-general-mcq"]
        world = await new_stage(scoring, ["Upstage"])
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria",
                json=criteria_body([uuid.UUID(mcq["id"])]),
                headers=scoring.operator(),
            )
        )
        await start_evaluation(scoring, world)
        run = (await requested_runs(scoring, world.stage_id, expected=1))[0]

        response = await scoring.client.get(f"/v1/runs/{run['run_id']}/items", headers=scoring.service())

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert hashlib.sha256(response.content).hexdigest() == run["items"]["sha256"] == mcq["items_sha256"]
        lines = [json.loads(line) for line in response.content.splitlines()]
        assert len(lines) == run["items"]["item_count"] == 10
        assert all(set(line) == {"item_id", "prompt"} for line in lines)
        assert lines[0]["prompt"].splitlines()[1:] == ["A. 부산", "B. 서울", "C. 인천", "D. 대구", "정답:"]

    @pytest.mark.parametrize(
        ("endpoint", "version"),
        [
            (
                TritonEndpoint(
                    url="127.0.0.1:8001",
                    model_name="chat",
                    model_version="1",
                    protocol="grpc",
                    gpu_pool="H100",
                    convention="fmc-text",
                    chat_template="gemma",
                ),
                "v1",
            ),
            (
                TritonEndpoint(
                    url="http://127.0.0.1:8000",
                    model_name="chat",
                    model_version="1",
                    protocol="http",
                    gpu_pool="H100",
                    convention="openai-chat",
                ),
                "v2",
            ),
        ],
    )
    async def test_the_convention_and_chat_template_reach_the_run_request_in_the_version_that_says_them(
        self, scoring: Scoring, endpoint: TritonEndpoint, version: str
    ) -> None:
        suites = await demo_suites(scoring)
        world = await new_stage(scoring, ["Upstage"])
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria",
                json=criteria_body([uuid.UUID(suites["demo-en-arithmetic"]["id"])]),
                headers=scoring.operator(),
            )
        )
        await start_evaluation(scoring, world, endpoint)

        [run] = await requested_runs(scoring, world.stage_id, expected=1, version=version)

        assert run["endpoint"]["convention"] == endpoint.convention
        assert run["endpoint"]["chat_template"] == endpoint.chat_template
        assert run["endpoint"]["protocol"] == endpoint.protocol

    async def test_a_team_cannot_fetch_a_runs_items(self, scoring: Scoring) -> None:
        response = await scoring.client.get(
            f"/v1/runs/{uuid.uuid4()}/items", headers=scoring.as_team(uuid.uuid4())
        )
        assert response.status_code == 403

    async def test_a_start_without_criteria_is_dead_lettered_with_the_reason(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["NC AI"])
        await publish(scoring.bootstrap, evaluation_started(world))

        headers = await watch_records(
            scoring.bootstrap, str(Topic.SCORING_DLQ), dead_letter(str(world.stage_id))
        )
        assert headers["fmc-dlq-consumer"] == "scoring.evaluation"
        assert "criteria" in headers["fmc-dlq-error"]

    async def test_a_start_whose_places_differ_from_the_criteria_is_dead_lettered_and_plans_nothing(
        self, scoring: Scoring
    ) -> None:
        """The registry's stage plans 3 places; criteria that advance 4 must not decide it."""
        suites = await demo_suites(scoring)
        world = await new_stage(scoring, ["Upstage", "NC AI"])
        suite_ids = [uuid.UUID(suites["demo-ko-general-mcq"]["id"])]
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria",
                json=criteria_body(suite_ids, advancing=4),
                headers=scoring.operator(),
            )
        )
        await publish(scoring.bootstrap, evaluation_started(world, planned_advancing=3))

        headers = await watch_records(
            scoring.bootstrap, str(Topic.SCORING_DLQ), dead_letter(str(world.stage_id))
        )
        assert headers["fmc-dlq-reason"] == "handler-rejected"
        assert headers["fmc-dlq-error"].startswith("criteria-places-mismatch: ")
        assert "advance 4" in headers["fmc-dlq-error"]
        assert "plans 3" in headers["fmc-dlq-error"]
        async with scoring.runtime.sessions() as session:
            assert await planning.runs_of_stage(session, world.stage_id) == []
        criteria = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/criteria", headers=scoring.operator())
        )
        assert criteria["frozen_at"] is None  # still open to the fix


def dead_letter(needle: str) -> Callable[[list[ConsumerRecord[bytes, bytes]]], dict[str, str] | None]:
    def found(records: list[ConsumerRecord[bytes, bytes]]) -> dict[str, str] | None:
        for record in records:
            if needle.encode() in (record.value or b""):
                return {k: v.decode() for k, v in record.headers}
        return None

    return found
