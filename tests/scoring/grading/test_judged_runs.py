"""Judged suites end to end: the teams' model (demo-lm) and the judge (judge-lm) both served by the
real Triton, through the real gateway and broker. Two teams answer a single-answer suite and a
pairwise one; scoring asks the judge, retries the unparsable judgement, and grades from the
judgements.

The terse team's model (demo-lm) answers an open question with its first four words after
``Question:``; the echoing team's (misbehaving-lm) repeats the whole prompt (the gateway asks every
team with the same decoding parameters, so the teams differ by model). judge-lm rates 9 an answer with
the item's key phrase (the reference's first line, else the question's last word), 2 one without,
prefers the first answer when two are equally good, and writes no verdict about ``GIBBERISH``
(tools/devrunner/fmc_devrunner/model_repository/README.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from fmc_common.events.topics import Topic
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.grading import judged as judged_flow
from fmc_scoring.grading import repository as grading_repository
from fmc_scoring.grading import service as grading
from fmc_scoring.judging import repository as judging_repository
from fmc_scoring.judging.service import JUDGE_ID
from fmc_scoring.planning import service as planning_service
from scoring.grading.test_grading_runs import triton_endpoint
from scoring.harness import (
    Scoring,
    StageWorld,
    add_expert_scores,
    body,
    criteria_body,
    new_stage,
    start_evaluation,
    watch_topic,
)
from support.eventually import eventually

pytestmark = [pytest.mark.broker, pytest.mark.triton]

SINGLE_ITEMS = [
    {"item_id": "capital", "prompt": "Question: The capital is Seoul", "answer": "Seoul"},
    {"item_id": "port", "prompt": "Question: Busan is a big port", "answer": "Seoul"},
    {"item_id": "hint", "prompt": "Seoul is the capital. Question: Name it please now", "answer": "Seoul"},
    {"item_id": "garbled", "prompt": "Question: GIBBERISH talk here", "answer": "anything"},
]
# Pairwise: the key phrase is the question's last word ("Seoul"); the reference is the other answer.
PAIRWISE_ITEMS = [
    {"item_id": "beats-weak", "prompt": "Question: Seoul is the capital. Seoul", "answer": "I do not know"},
    {"item_id": "both-good", "prompt": "Question: Seoul is the capital. Seoul", "answer": "Seoul, of course"},
    {"item_id": "loses", "prompt": "Question: Busan is a port. Seoul", "answer": "Seoul"},
]
# The model serving each team: the echo has the key phrase more often (it repeats the question).
MODELS = {"Echo": "misbehaving-lm", "Terse": "demo-lm"}
JUDGE_REQUEST = {"fmc.scoring.inference-run-requested.v1", "fmc.scoring.inference-run-requested.v2"}


@dataclass
class JudgedStage:
    world: StageWorld
    suites: dict[str, dict[str, Any]]
    runs: list[dict[str, Any]]
    judge_requests: list[dict[str, Any]]
    judge_documents: dict[str, bytes]

    def run(self, team: str, suite: str) -> dict[str, Any]:
        team_id, suite_id = str(self.world.teams[team]), self.suites[suite]["id"]
        return next(r for r in self.runs if r["team_id"] == team_id and r["suite_id"] == suite_id)


async def judged_suite(
    scoring: Scoring, triton: TritonProcess, key: str, mode: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    suite = await body(
        await scoring.client.post(
            "/v1/suites",
            json={
                "key": f"{key}-{uuid.uuid4().hex[:8]}",
                "version": "1",
                "title": f"Judged ({mode})",
                "language": "en",
                "kind": "judged",
                "items": items,
            },
            headers=scoring.operator(),
        ),
        201,
    )
    endpoint = triton_endpoint(triton).model_dump() | {"model_name": "judge-lm", "model_version": "1"}
    judge = {"mode": mode, "endpoint": endpoint, "max_tokens": 64, "max_attempts": 2}
    await body(
        await scoring.client.put(f"/v1/suites/{suite['id']}/judge", json=judge, headers=scoring.operator())
    )
    return dict(suite)


async def hand_over(scoring: Scoring, request: dict[str, Any], items_path: str) -> bytes:
    """Give the gateway a run as its intake would, with the items scoring serves at ``items_path``."""
    items = await scoring.client.get(items_path, headers=scoring.service())
    assert items.status_code == 200, items.text
    path = scoring.items / f"{request['run_id']}.jsonl"
    path.write_bytes(items.content)
    created = {
        key: request[key] for key in ("run_id", "stage_id", "submission_id", "team_id", "endpoint", "suite")
    } | {
        "items": request["items"] | {"uri": path.as_uri()},
        "decoding": {"max_tokens": 4 if request["team_id"] != str(JUDGE_ID) else 64},
    }
    await body(await scoring.gateway.post("/v1/runs", json=created, headers=scoring.operator()), 201)
    return items.content


async def judge_requests(scoring: Scoring, world: StageWorld, team_runs: set[str], count: int) -> list[Any]:
    """The run requests scoring published for the stage beside its teams' runs: the judge's."""

    def found(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        requests = [
            e["data"]
            for e in envelopes
            if e.get("type") in JUDGE_REQUEST
            and e["data"]["stage_id"] == str(world.stage_id)
            and e["data"]["run_id"] not in team_runs
        ]
        return requests if len(requests) >= count else None

    return await watch_topic(scoring.bootstrap, str(Topic.SCORING), found)


async def run_judged_stage(scoring: Scoring, triton: TritonProcess) -> JudgedStage:
    suites = {
        "single": await judged_suite(scoring, triton, "judged-single", "single", SINGLE_ITEMS),
        "pairwise": await judged_suite(scoring, triton, "judged-pairwise", "pairwise", PAIRWISE_ITEMS),
    }
    world = await new_stage(scoring, list(MODELS))
    suite_ids = [uuid.UUID(s["id"]) for s in suites.values()]
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/criteria",
            json=criteria_body(suite_ids),
            headers=scoring.operator(),
        )
    )
    endpoint = triton_endpoint(triton)
    await start_evaluation(scoring, world, endpoint)
    runs = await body(
        await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
    )
    names = {str(team_id): name for name, team_id in world.teams.items()}
    by_id = {s["id"]: s for s in suites.values()}
    for run in runs:
        suite = by_id[run["suite_id"]]
        request = run | {
            "run_id": run["id"],
            "endpoint": endpoint.model_dump() | {"model_name": MODELS[names[run["team_id"]]]},
            "suite": {"suite_id": suite["id"], "version": "1", "content_hash": suite["content_hash"]},
            "items": {"uri": "", "item_count": suite["item_count"], "sha256": suite["items_sha256"]},
        }
        await hand_over(scoring, request, f"/v1/runs/{run['id']}/items")
    team_runs = {r["id"] for r in runs}
    documents: dict[str, bytes] = {}
    # First every judgement (one judge run per team run), then a retry of the garbled items' (single
    # suite: one per team).
    for count in (len(runs), len(runs) + 2):
        requests = await judge_requests(scoring, world, team_runs, count)
        for request in requests:
            if request["run_id"] not in documents:
                path = f"/v1/runs/{request['run_id']}/items"
                documents[request["run_id"]] = await hand_over(scoring, request, path)

    async def all_graded() -> list[dict[str, Any]] | None:
        found = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
        )
        return found if all(r["status"] == "graded" for r in found) else None

    graded = await eventually(all_graded, timeout=90)
    return JudgedStage(world, suites, graded, requests, documents)


_STAGES: dict[int, JudgedStage] = {}


@pytest.fixture
async def judged(scoring: Scoring, triton: TritonProcess) -> JudgedStage:
    """One judged stage per backend, shared by this module's tests (each only reads it)."""
    if id(scoring) not in _STAGES:
        _STAGES[id(scoring)] = await run_judged_stage(scoring, triton)
    return _STAGES[id(scoring)]


async def item_grades(scoring: Scoring, run_id: str) -> dict[str, dict[str, Any]]:
    async with scoring.runtime.sessions() as session:
        rows = await grading_repository.item_grades(session, uuid.UUID(run_id))
        return {r.item_id: {"score": r.score, "reason": str(r.reason), "correct": r.correct} for r in rows}


async def judgements(scoring: Scoring, run_id: str) -> list[dict[str, Any]]:
    found = await body(await scoring.client.get(f"/v1/runs/{run_id}/judgements", headers=scoring.operator()))
    return list(found)


class TestSingleAnswerJudging:
    async def test_a_right_answer_gets_the_judges_rating_and_a_wrong_one_a_low_rating(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        terse = await item_grades(scoring, judged.run("Terse", "single")["id"])
        echo = await item_grades(scoring, judged.run("Echo", "single")["id"])
        assert terse["capital"] == {"score": 0.9, "reason": "judged", "correct": True}
        assert terse["port"] == {"score": 0.2, "reason": "judged", "correct": False}
        # "Name it please now" lacks the reference's key phrase; the echo of the question has it.
        assert terse["hint"] == {"score": 0.2, "reason": "judged", "correct": False}
        assert echo["hint"] == {"score": 0.9, "reason": "judged", "correct": True}

    async def test_an_unparsable_judgement_is_retried_then_recorded_with_no_credit(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        run = judged.run("Terse", "single")
        garbled = [j for j in await judgements(scoring, run["id"]) if j["item_id"] == "garbled"]
        assert [(j["attempt"], j["parsed"], j["rating"]) for j in garbled] == [
            (1, False, None),
            (2, False, None),
        ]
        assert all(j["raw_output"] and "[[" not in j["raw_output"] for j in garbled)
        assert (await item_grades(scoring, run["id"]))["garbled"] == {
            "score": 0.0,
            "reason": "judge-unparsable",
            "correct": False,
        }

    async def test_the_runs_accuracy_is_the_mean_credit_with_the_unparsable_item_counted(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        async with scoring.runtime.sessions() as session:
            grade = await grading_repository.grade(session, uuid.UUID(judged.run("Terse", "single")["id"]))
        assert grade is not None
        assert grade.items == 4
        assert grade.accuracy == pytest.approx((0.9 + 0.2 + 0.2 + 0.0) / 4)


class TestPairwiseJudging:
    async def test_both_orders_are_asked_and_combined(self, scoring: Scoring, judged: JudgedStage) -> None:
        grades = await item_grades(scoring, judged.run("Terse", "pairwise")["id"])
        assert grades["beats-weak"]["score"] == 1.0
        assert grades["loses"]["score"] == 0.0

    async def test_the_judges_position_bias_is_cancelled_by_swapping(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        run = judged.run("Terse", "pairwise")
        both = {j["position"]: j for j in await judgements(scoring, run["id"]) if j["item_id"] == "both-good"}
        # Two equally good answers: the judge picks the first one shown both times ...
        assert "[[A]]" in both["ab"]["raw_output"]
        assert "[[A]]" in both["ba"]["raw_output"]
        assert (both["ab"]["outcome"], both["ba"]["outcome"]) == ("win", "loss")
        # ... which, asked in one order only, would have given 1 or 0: swapped, it is a tie.
        assert (await item_grades(scoring, run["id"]))["both-good"]["score"] == 0.5


class TestWhatTheJudgeSees:
    async def test_the_judge_run_carries_no_team_and_its_prompts_no_team_identity(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        assert len(judged.judge_requests) == len(judged.runs) + 2
        assert {(r["team_id"], r["submission_id"]) for r in judged.judge_requests} == {
            (str(JUDGE_ID), str(JUDGE_ID))
        }
        assert {r["endpoint"]["model_name"] for r in judged.judge_requests} == {"judge-lm"}
        secrets = [str(t) for t in judged.world.teams.values()]
        secrets += [str(s) for s in judged.world.submissions.values()]
        secrets += list(judged.world.teams) + [r["id"] for r in judged.runs]
        texts = [document.decode() for document in judged.judge_documents.values()]
        assert [[s for s in secrets if s in text] for text in texts] == [[]] * len(texts)
        assert sum("Seoul, of course" in text for text in texts) == 2  # the reference, for each team
        # A retry asks again only what was unparsable.
        retries = [t for t in texts if t.count("\n") == 1]
        assert len(retries) == 2
        assert all(t.startswith('{"item_id":"garbled~single"') for t in retries)

    async def test_the_teams_model_never_receives_the_reference(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        items = await scoring.client.get(
            f"/v1/runs/{judged.run('Terse', 'pairwise')['id']}/items", headers=scoring.service()
        )
        assert "I do not know" not in items.text
        assert "Seoul, of course" not in items.text


class TestAgreement:
    async def test_judge_and_panel_agreement_is_the_rank_correlation_over_teams(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        world = judged.world
        await add_expert_scores(scoring, world, world.teams["Echo"], [80.0, 82.0, 78.0])
        await add_expert_scores(scoring, world, world.teams["Terse"], [60.0, 62.0, 58.0])
        found = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/panel/judge-agreement", headers=scoring.operator()
            )
        )
        ranks = {t["team_id"]: (t["judge_rank"], t["panel_rank"]) for t in found["teams"]}
        assert ranks == {str(world.teams["Echo"]): (2.0, 2.0), str(world.teams["Terse"]): (1.0, 1.0)}
        assert found["spearman"] == pytest.approx(1.0)


class TestRedelivery:
    async def test_completions_delivered_again_ask_the_judge_nothing_more_and_keep_the_grade(
        self, scoring: Scoring, judged: JudgedStage
    ) -> None:
        run_id = uuid.UUID(judged.run("Terse", "single")["id"])
        async with scoring.ctx() as ctx:
            grade_before = await grading_repository.grade(ctx.session, run_id)
            assert grade_before is not None
            accuracy = grade_before.accuracy
            judge_runs = await judging_repository.judge_runs_of(ctx.session, run_id)
            # The judge runs' completions again: each judge run has been read, none is read twice.
            assert [await judged_flow.judge_run_to_read(ctx.session, j.id) for j in judge_runs] == [
                None,
                None,
            ]
            # The team run's completion again: it has been sent to the judge, it is not sent twice.
            run = await planning_service.get_run(ctx.session, run_id)
            answers = [grading.Response(item["item_id"], "anything") for item in SINGLE_ITEMS]
            await judged_flow.request_judgement(
                ctx, run, datetime.now(UTC), answers, "0" * 64, "http://scoring", rounds=200
            )
            assert len(await judging_repository.judge_runs_of(ctx.session, run_id)) == len(judge_runs) == 2
        async with scoring.runtime.sessions() as session:
            grade = await grading_repository.grade(session, run_id)
            assert grade is not None
            assert grade.accuracy == accuracy
