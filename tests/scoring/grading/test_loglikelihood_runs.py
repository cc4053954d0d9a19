"""A multiple-choice suite scored by log-likelihood, through the real path: the criteria say so,
scoring requests the run (items of contexts and continuations, no key), the gateway answers from the
``loglik-lm`` stand-in on the real Triton, scoring grades by the argmax of the normalised scores.
An endpoint that gives no log-probabilities (``demo-lm``) fails its run before its first item."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fmc_common.events.registry import EvaluationStarted, FrozenSubmission, TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.grading import repository as grading
from fmc_scoring.grading.loglikelihood import grade_loglikelihood
from fmc_scoring.values import AnswerKey, GradableItem, ItemKind, Normalisation
from scoring.harness import Scoring, StageWorld, body, criteria_body, new_stage, publish, watch_topic
from support.eventually import eventually

pytestmark = [pytest.mark.broker, pytest.mark.triton]

LONG = "Pneumonoultramicroscopicsilicovolcanoconiosis"
# loglik-lm prefers "Seoul" and "Paris" (-0.2 a word); any other word costs -1 - 0.05 x its bytes.
ITEMS = [
    {"item_id": "korea", "prompt": "Capital of Korea?", "choices": ["Busan", "Seoul"], "answer": "B"},
    {"item_id": "japan", "prompt": "A city of Japan?", "choices": ["Seoul", "Osaka"], "answer": "B"},
    # Raw sums pick A (one short-ish word), per token B (three one-byte words), per byte C (two
    # very long words): the key is C.
    {
        "item_id": "crafted",
        "prompt": "Which one?",
        "choices": ["Incomprehensibilities", "a b c", f"{LONG} {LONG}"],
        "answer": "C",
    },
]


def suite_body(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "version": "1.0.0",
        "title": "Log-likelihood choices",
        "language": "en",
        "kind": "multiple-choice",
        "items": ITEMS,
    }


def endpoint(triton: TritonProcess, model: str) -> TritonEndpoint:
    return TritonEndpoint(
        url=triton.grpc_url, model_name=model, model_version="", protocol="grpc", gpu_pool="H100"
    )


async def start(scoring: Scoring, world: StageWorld, models: dict[uuid.UUID, TritonEndpoint]) -> None:
    await publish(
        scoring.bootstrap,
        EvaluationStarted(
            stage_id=world.stage_id,
            programme_id=world.programme_id,
            stage_number=1,
            started_at=datetime.now(UTC) - timedelta(minutes=5),
            submissions=[
                FrozenSubmission(
                    submission_id=world.submissions[team_id],
                    team_id=team_id,
                    version=1,
                    endpoint=models[team_id],
                    manifest_digest="sha256:" + "ab" * 32,
                )
                for team_id in world.teams.values()
            ],
            objection_days=10,
        ),
    )


async def requested_runs(scoring: Scoring, world: StageWorld, count: int) -> list[dict[str, Any]]:
    """The run requests scoring published for the stage, as the gateway would receive them."""

    def found(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        requests = [
            e["data"]
            for e in envelopes
            if "inference-run-requested" in e.get("type", "")
            and e["data"].get("stage_id") == str(world.stage_id)
        ]
        return requests if len(requests) == count else None

    return await watch_topic(scoring.bootstrap, str(Topic.SCORING), found)


async def hand_to_gateway(scoring: Scoring, request: dict[str, Any]) -> None:
    """The request as published; only the items come from a file (the harness's gateway reads
    items below its directory), with the bytes scoring serves for the run, checked by their sha256."""
    items = await scoring.client.get(f"/v1/runs/{request['run_id']}/items", headers=scoring.service())
    path = scoring.items / f"{request['run_id']}.jsonl"
    path.write_bytes(items.content)
    run = {k: v for k, v in request.items() if k != "requested_at"} | {
        "items": request["items"] | {"uri": path.as_uri()}
    }
    await body(await scoring.gateway.post("/v1/runs", json=run, headers=scoring.operator()), 201)


class TestLoglikelihoodSuite:
    async def test_graded_by_the_most_likely_choice_and_refused_without_log_probs(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        suite = await body(
            await scoring.client.post(
                "/v1/suites", json=suite_body(f"loglik-{uuid.uuid4().hex[:8]}"), headers=scoring.operator()
            ),
            201,
        )
        world = await new_stage(scoring, ["Scores", "Generates only"])
        criteria = criteria_body([uuid.UUID(suite["id"])])
        criteria["suites"][0] |= {"scoring": "loglikelihood", "normalisation": "per-byte"}
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria", json=criteria, headers=scoring.operator()
            )
        )
        scorer, generator = world.teams["Scores"], world.teams["Generates only"]
        await start(
            scoring, world, {scorer: endpoint(triton, "loglik-lm"), generator: endpoint(triton, "demo-lm")}
        )
        requests = await requested_runs(scoring, world, 2)
        assert {r["scoring"] for r in requests} == {"loglikelihood"}
        document = await scoring.client.get(
            f"/v1/runs/{requests[0]['run_id']}/items", headers=scoring.service()
        )
        assert "answer" not in document.text
        assert '"continuations":[" Busan"," Seoul"]' in document.text
        for request in requests:
            await hand_to_gateway(scoring, request)

        async def settled() -> dict[str, dict[str, Any]] | None:
            runs = await body(
                await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
            )
            done = all(r["status"] in ("graded", "failed") for r in runs)
            return {r["team_id"]: r for r in runs} if done and len(runs) == 2 else None

        runs = await eventually(settled, timeout=90)
        refused = runs[str(generator)]
        assert refused["status"] == "failed"
        assert refused["failure_code"] == "model-contract-mismatch"
        assert "cannot give log-probabilities" in refused["failure_reason"]

        graded = runs[str(scorer)]
        assert graded["status"] == "graded"
        async with scoring.runtime.sessions() as session:
            run_id = uuid.UUID(graded["id"])
            rows = {row.item_id: row for row in await grading.item_grades(session, run_id)}
            grade = await grading.grade(session, run_id)
        assert (rows["korea"].correct, rows["korea"].extracted) == (True, "B")
        assert (rows["japan"].correct, rows["japan"].extracted) == (False, "A")
        assert (rows["crafted"].correct, rows["crafted"].extracted) == (True, "C")
        assert grade is not None
        assert grade.accuracy == pytest.approx(2 / 3)

        # The same stored record under the other normalisations picks other choices.
        choices = tuple(str(c) for c in ITEMS[2]["choices"])
        crafted = GradableItem("crafted", AnswerKey(ItemKind.MULTIPLE_CHOICE, choice=2), choices)
        response = rows["crafted"].response
        picks = {n: grade_loglikelihood(crafted, response, n).extracted for n in Normalisation}
        assert picks == {Normalisation.RAW: "A", Normalisation.PER_TOKEN: "B", Normalisation.PER_BYTE: "C"}
