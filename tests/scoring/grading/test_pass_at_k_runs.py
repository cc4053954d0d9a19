"""pass@k over n samples per item (SQLite and PostgreSQL): the criteria name n and k per executed-code
suite; planning asks the gateway for samples 1 to n-1 as further runs with their own seeds; the run is
graded once every sample completed, each item scored with the unbiased estimator over its samples'
outcomes in the real sandbox; every sample's response is stored and a regrade recomputes the same."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from fmc_common.events.inference import InferenceRunCompleted, InferenceRunFailed
from fmc_common.events.topics import Topic
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.grading import repository
from fmc_scoring.grading import service as grading
from fmc_scoring.grading.consumers import on_sampled
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.grading.repository import item_grades
from fmc_scoring.planning import repository as planning
from scoring.grading.test_grading_code_runs import ITEMS, RIGHT, WRONG
from scoring.grading.test_grading_runs import run_on_gateway, triton_endpoint
from scoring.harness import (
    Scoring,
    StageWorld,
    body,
    criteria_body,
    new_stage,
    publish,
    start_evaluation,
    watch_topic,
)
from support.eventually import eventually

pytestmark = [pytest.mark.broker, pytest.mark.triton]

SAMPLES, K = 4, 2
# Which of the four samples answers each item right (the rest answer it wrong), and the estimate:
# 1 - C(n - c, k) / C(n, k) with n = 4, k = 2.
PATTERN = {
    "add": (True, False, True, False),  # c = 2: 1 - C(2,2)/C(4,2) = 1 - 1/6
    "reverse": (False, False, False, True),  # c = 1: 1 - C(3,2)/C(4,2) = 1 - 3/6
    "is-even": (False, False, False, False),  # c = 0: 0
}
EXPECTED = {"add": 5 / 6, "reverse": 0.5, "is-even": 0.0}


async def code_suite(scoring: Scoring) -> dict[str, Any]:
    suite = {
        "key": f"code-k-{uuid.uuid4().hex[:8]}",
        "version": "1.0.0",
        "title": "Small functions, sampled",
        "language": "en",
        "kind": "code",
        "items": ITEMS,
    }
    created: dict[str, Any] = await body(
        await scoring.client.post("/v1/suites", json=suite, headers=scoring.operator()), 201
    )
    return created


def sampled_criteria(suite_id: str, samples: int = SAMPLES, k: int = K) -> dict[str, Any]:
    decoding = {"max_tokens": 16, "temperature": 0.8, "seed": 7}
    criteria = criteria_body([uuid.UUID(suite_id)], decoding=decoding)
    criteria["suites"][0] |= {"samples": samples, "pass_k": k}
    return criteria


async def sampled_stage(
    scoring: Scoring, triton: TritonProcess | None = None, teams: tuple[str, ...] = ("Upstage",)
) -> tuple[StageWorld, dict[str, Any]]:
    suite = await code_suite(scoring)
    world = await new_stage(scoring, list(teams))
    path = f"/v1/stages/{world.stage_id}/criteria"
    await body(await scoring.client.put(path, json=sampled_criteria(suite["id"]), headers=scoring.operator()))
    if triton is None:
        await start_evaluation(scoring, world)
    else:
        await start_evaluation(scoring, world, triton_endpoint(triton))
    return world, suite


class TestCriteria:
    async def test_samples_and_k_are_stated_per_executed_code_suite(self, scoring: Scoring) -> None:
        suite = await code_suite(scoring)
        path = f"/v1/stages/{uuid.uuid4()}/criteria"
        read = await body(
            await scoring.client.put(path, json=sampled_criteria(suite["id"]), headers=scoring.operator())
        )
        assert [(s["samples"], s["pass_k"]) for s in read["suites"]] == [(SAMPLES, K)]

    async def test_k_above_the_samples_is_refused(self, scoring: Scoring) -> None:
        suite = await code_suite(scoring)
        path = f"/v1/stages/{uuid.uuid4()}/criteria"
        response = await scoring.client.put(
            path, json=sampled_criteria(suite["id"], samples=2, k=3), headers=scoring.operator()
        )
        assert response.status_code == 422
        assert "pass_k (3) needs at least as many samples (2)" in response.text

    async def test_samples_on_a_suite_that_is_not_executed_code_are_refused(self, scoring: Scoring) -> None:
        suites = await body(await scoring.client.post("/v1/suites/demo", headers=scoring.operator()))
        mcq = next(s for s in suites if s["kind"] == "multiple-choice")
        path = f"/v1/stages/{uuid.uuid4()}/criteria"
        criteria = sampled_criteria(mcq["id"])
        response = await scoring.client.put(path, json=criteria, headers=scoring.operator())
        assert (response.status_code, response.json()["code"]) == (422, "scoring-not-applicable")


class TestPlanning:
    async def test_each_further_sample_is_a_run_of_the_same_items_with_its_own_seed(
        self, scoring: Scoring
    ) -> None:
        world, _ = await sampled_stage(scoring)
        async with scoring.runtime.sessions() as session:
            [run] = await planning.runs_of_stage(session, world.stage_id)
            samples = await planning.sample_runs(session, run.id)
        # The stage's seed is 7: samples 1 to 3 ask with 8, 9 and 10 (sample 0, the planned run, with 7).
        assert [(s.sample, s.seed, s.status) for s in samples] == [
            (1, 8, "requested"),
            (2, 9, "requested"),
            (3, 10, "requested"),
        ]
        planned = await scoring.client.get(f"/v1/runs/{run.id}/items", headers=scoring.service())
        for sample in samples:
            served = await scoring.client.get(f"/v1/runs/{sample.id}/items", headers=scoring.service())
            assert (served.status_code, served.content) == (200, planned.content)

    async def test_every_team_asks_sample_s_with_the_same_seed_as_its_own_fairness_group(
        self, scoring: Scoring
    ) -> None:
        """The gateway runs every team of a stage on a suite with the same decoding: each sample is
        announced as its own group (suite version and content hash marked with the sample)."""
        world, suite = await sampled_stage(scoring, teams=("Upstage", "LG AI Research"))

        def requests(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            found = [
                e["data"]
                for e in envelopes
                if e.get("type", "").startswith("fmc.scoring.inference-run-requested")
                and e["data"]["stage_id"] == str(world.stage_id)
            ]
            return found if len(found) == 2 * SAMPLES else None

        published = await watch_topic(scoring.bootstrap, str(Topic.SCORING), requests)
        groups: dict[tuple[str, str], set[tuple[str, int]]] = {}
        for request in published:
            group = (request["suite"]["version"], request["suite"]["content_hash"])
            groups.setdefault(group, set()).add((request["team_id"], request["decoding"]["seed"]))
        seeds = {version: {seed for _, seed in found} for (version, _), found in groups.items()}
        assert seeds == {"1.0.0": {7}, "1.0.0+sample.1": {8}, "1.0.0+sample.2": {9}, "1.0.0+sample.3": {10}}
        assert all(len(found) == 2 for found in groups.values())  # both teams in every group
        assert (("1.0.0", suite["content_hash"])) in groups


class TestGrading:
    async def grade_mixture(self, scoring: Scoring) -> uuid.UUID:
        world, _ = await sampled_stage(scoring)
        async with scoring.ctx() as ctx:
            [run] = await planning.runs_of_stage(ctx.session, world.stage_id)
            samples = [
                [grading.Response(item, RIGHT[item] if PATTERN[item][s] else WRONG[item]) for item in PATTERN]
                for s in range(SAMPLES)
            ]
            await grading.grade_run(ctx, run, samples[0], "0" * 64, rounds=500, samples=samples[1:])
        return run.id

    async def test_correct_and_wrong_samples_give_the_unbiased_estimate_per_item(
        self, scoring: Scoring
    ) -> None:
        run_id = await self.grade_mixture(scoring)
        async with scoring.runtime.sessions() as session:
            items = await repository.item_grades(session, run_id)
            grade = await repository.grade(session, run_id)
            stored = await repository.item_samples(session, run_id)
        assert {g.item_id: g.score for g in items} == pytest.approx(EXPECTED)
        # The item's row describes sample 0's response; its score is pass@k over the four.
        assert {g.item_id: (g.correct, g.response == RIGHT[g.item_id]) for g in items} == {
            item: (pattern[0], pattern[0]) for item, pattern in PATTERN.items()
        }
        assert {(s.item_id, s.sample): s.passed for s in stored} == {
            (item, s): pattern[s] for item, pattern in PATTERN.items() for s in range(SAMPLES)
        }
        assert grade is not None
        assert grade.accuracy == pytest.approx(sum(EXPECTED.values()) / 3)
        assert grade.ci_low <= grade.accuracy <= grade.ci_high

    async def test_a_regrade_recomputes_the_same_from_the_stored_samples(self, scoring: Scoring) -> None:
        run_id = await self.grade_mixture(scoring)
        async with scoring.ctx() as ctx:
            before = [(g.item_id, g.score, g.reason) for g in await item_grades(ctx.session, run_id)]
            run = await planning.get_run(ctx.session, run_id)
            assert run is not None
            regraded = await grading.regrade(ctx, run, rounds=500)
            after = [(g.item_id, g.score, g.reason) for g in await item_grades(ctx.session, run_id)]
            samples = len(await repository.item_samples(ctx.session, run_id))
        assert after == before
        assert regraded is not None
        assert regraded.accuracy == pytest.approx(sum(EXPECTED.values()) / 3)
        assert samples == SAMPLES * len(PATTERN)


class TestThroughTheGateway:
    async def test_the_run_is_graded_once_every_sample_was_answered_by_the_model(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world, suite = await sampled_stage(scoring, triton)
        endpoint = triton_endpoint(triton)
        runs = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
        )
        [run] = runs
        async with scoring.runtime.sessions() as session:
            samples = await planning.sample_runs(session, uuid.UUID(run["id"]))
        # The planned run and two of the three samples answered: not graded yet.
        for gateway_run in [run, *({**run, "id": str(s.id)} for s in samples[:2])]:
            await run_on_gateway(scoring, gateway_run, suite, endpoint)

        async def recorded() -> bool | None:
            async with scoring.runtime.sessions() as session:
                done = await planning.sample_runs(session, uuid.UUID(run["id"]))
                return True if sum(s.status == "completed" for s in done) == 2 else None

        await eventually(recorded)
        async with scoring.runtime.sessions() as session:
            assert await repository.grade(session, uuid.UUID(run["id"])) is None
        await run_on_gateway(scoring, {**run, "id": str(samples[2].id)}, suite, endpoint)

        async def graded() -> Any:
            async with scoring.runtime.sessions() as session:
                return await repository.grade(session, uuid.UUID(run["id"]))

        grade = await eventually(graded)
        async with scoring.runtime.sessions() as session:
            stored = await repository.item_samples(session, uuid.UUID(run["id"]))
        assert sorted({s.sample for s in stored}) == list(range(SAMPLES))
        assert len(stored) == SAMPLES * len(ITEMS)
        # demo-lm writes prose, never code: no sample passes, pass@2 is 0 on every item.
        assert (grade.items, grade.accuracy) == (len(ITEMS), 0.0)
        assert json.dumps(sorted({str(s.reason) for s in stored})) == '["no-code-found"]'


class TestFailure:
    async def test_a_failed_sample_fails_the_run_and_the_runs_own_completion_keeps_it_failed(
        self, scoring: Scoring
    ) -> None:
        world, suite = await sampled_stage(scoring)
        async with scoring.runtime.sessions() as session:
            [run] = await planning.runs_of_stage(session, world.stage_id)
            samples = await planning.sample_runs(session, run.id)
        now = datetime.now(UTC)
        ids = {"stage_id": run.stage_id, "submission_id": run.submission_id, "team_id": run.team_id}
        failed = InferenceRunFailed(
            run_id=samples[1].id, code="endpoint-unreachable", reason="Triton went away", failed_at=now, **ids
        )
        await publish(scoring.bootstrap, failed)

        async def run_failed() -> Any:
            async with scoring.runtime.sessions() as session:
                found = await planning.get_run(session, run.id)
                return found if found is not None and found.status == "failed" else None

        found = await eventually(run_failed)
        assert found.failure_code == "sample-run-failed"
        assert found.failure_reason == "sample 2: endpoint-unreachable: Triton went away"

        completed = InferenceRunCompleted(
            run_id=run.id,
            total=len(ITEMS),
            answered=len(ITEMS),
            errored=0,
            responses_sha256="0" * 64,
            suite_content_hash=suite["content_hash"],
            gpu_pool="H100",
            hardware_class="cpu",
            server_version="2.51.0",
            model_version="1",
            started_at=now,
            completed_at=now,
            **ids,
        )
        unused = GatewayClient("http://gateway.invalid", lambda: None, 1.0)  # a failed run reads nothing
        async with scoring.runtime.sessions() as session, session.begin():
            assert await on_sampled(scoring.runtime, unused, 200, session, completed) is True
        async with scoring.runtime.sessions() as session:
            after = await planning.get_run(session, run.id)
            assert after is not None
            assert (after.status, after.failure_code) == ("failed", "sample-run-failed")
            assert await repository.grade(session, run.id) is None
