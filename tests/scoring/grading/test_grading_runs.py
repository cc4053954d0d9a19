"""Grading wired to the real gateway: a planned run answered by Triton is read back and graded."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from fmc_common.events.registry import TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.grading.bootstrap import accuracy_with_ci
from fmc_scoring.grading.grader import grade_all
from fmc_scoring.suites.service import demo_contents
from scoring.harness import (
    Scoring,
    StageWorld,
    body,
    criteria_body,
    demo_suites,
    new_stage,
    stage_events,
    start_evaluation,
)
from support.eventually import eventually

pytestmark = [pytest.mark.broker, pytest.mark.triton]
SUITE = "demo-en-general-mcq"


def triton_endpoint(triton: TritonProcess) -> TritonEndpoint:
    return TritonEndpoint(
        url=triton.grpc_url, model_name="demo-lm", model_version="", protocol="grpc", gpu_pool="H100"
    )


async def run_on_gateway(
    scoring: Scoring, run: dict[str, Any], suite: dict[str, Any], endpoint: TritonEndpoint
) -> None:
    """Hand the gateway the run scoring planned, with the items scoring serves for it."""
    items = await scoring.client.get(f"/v1/runs/{run['id']}/items", headers=scoring.service())
    path = scoring.items / f"{run['id']}.jsonl"
    path.write_bytes(items.content)
    request = {
        "run_id": run["id"],
        "stage_id": run["stage_id"],
        "submission_id": run["submission_id"],
        "team_id": run["team_id"],
        "endpoint": endpoint.model_dump(),
        "suite": {
            "suite_id": suite["id"],
            "version": suite["version"],
            "content_hash": suite["content_hash"],
        },
        "items": {
            "uri": path.as_uri(),
            "item_count": suite["item_count"],
            "sha256": hashlib.sha256(items.content).hexdigest(),
        },
        "decoding": {"max_tokens": 16},
    }
    await body(await scoring.gateway.post("/v1/runs", json=request, headers=scoring.operator()), 201)


async def graded_stage(scoring: Scoring, triton: TritonProcess) -> tuple[StageWorld, list[dict[str, Any]]]:
    suites = await demo_suites(scoring)
    world = await new_stage(scoring, ["Upstage", "LG AI Research"])
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/criteria",
            json=criteria_body([uuid.UUID(suites[SUITE]["id"])]),
            headers=scoring.operator(),
        )
    )
    endpoint = triton_endpoint(triton)
    await start_evaluation(scoring, world, endpoint)
    runs = await body(
        await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
    )
    for run in runs:
        await run_on_gateway(scoring, run, suites[SUITE], endpoint)

    async def all_graded() -> list[dict[str, Any]] | None:
        found = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
        )
        return found if all(r["status"] == "graded" for r in found) else None

    return world, await eventually(all_graded, timeout=90)


class TestGradingRuns:
    async def test_a_completed_run_is_read_from_the_gateway_and_graded_reproducibly(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world, runs = await graded_stage(scoring, triton)
        events = await stage_events(scoring, Topic.SCORING, world, {"fmc.scoring.run-graded.v1"})
        graded = events["fmc.scoring.run-graded.v1"]
        run = next(r for r in runs if r["id"] == graded["run_id"])
        assert graded["responses_sha256"] == run["responses_sha256"]

        # What was announced is what the pure grader gives on the responses the gateway stored.
        page = await body(
            await scoring.gateway.get(
                f"/v1/runs/{run['id']}/responses?limit=1000", headers=scoring.operator()
            )
        )
        answers = {r["item_id"]: r["text"] if r["status"] == "ok" else None for r in page["items"]}
        suite = next(s for s in demo_contents() if s.key == SUITE)
        grades = grade_all([item.gradable() for item in suite.items], answers)
        expected = accuracy_with_ci([1.0 if g.correct else 0.0 for g in grades], rounds=500)
        assert graded["items"] == len(suite.items) == len(answers)
        assert (graded["accuracy"], graded["ci_low"], graded["ci_high"]) == (
            expected.accuracy,
            expected.ci_low,
            expected.ci_high,
        )

    async def test_each_runs_figures_reach_the_proposed_result(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world, runs = await graded_stage(scoring, triton)
        proposed = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        linked = {
            figure["run_id"]
            for team in proposed["teams"]
            for figure in team["detail"]["inputs"]["suites"].values()
        }
        assert linked == {r["id"] for r in runs}
