"""Setting a suite's judge (operators) and what a stage with a judged suite needs to start."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

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
    watch_records,
)
from scoring.planning.test_planning import dead_letter

pytestmark = pytest.mark.broker

ENDPOINT = {"url": "127.0.0.1:8001", "model_name": "judge-lm", "model_version": "1", "gpu_pool": "H100"}


async def judged_suite(scoring: Scoring) -> dict[str, Any]:
    item = {"item_id": "q1", "prompt": "What is the capital of Korea?", "answer": "Seoul"}
    created = await scoring.client.post(
        "/v1/suites",
        json={
            "key": f"judged-{uuid.uuid4().hex[:8]}",
            "version": "1",
            "title": "Judged",
            "language": "en",
            "kind": "judged",
            "items": [item],
        },
        headers=scoring.operator(),
    )
    return dict(await body(created, 201))


async def put_judge(scoring: Scoring, suite_id: str, **judge: Any) -> Any:
    return await scoring.client.put(
        f"/v1/suites/{suite_id}/judge",
        json={"mode": "single", "endpoint": ENDPOINT} | judge,
        headers=scoring.operator(),
    )


class TestSetJudge:
    async def test_a_judge_is_versioned_and_the_same_judge_again_keeps_its_revision(
        self, scoring: Scoring
    ) -> None:
        suite = await judged_suite(scoring)
        first = await body(await put_judge(scoring, suite["id"]))
        assert (first["revision"], first["template_version"]) == (1, "mt-bench-v1")
        assert "[[rating]]" in first["template"]
        assert (await body(await put_judge(scoring, suite["id"])))["revision"] == 1
        changed = await body(await put_judge(scoring, suite["id"], rubric="Only correctness counts."))
        assert changed["revision"] == 2
        current = await body(
            await scoring.client.get(f"/v1/suites/{suite['id']}/judge", headers=scoring.operator())
        )
        assert current["rubric"] == "Only correctness counts."

    async def test_a_suite_of_another_kind_takes_no_judge(self, scoring: Scoring) -> None:
        suites = await demo_suites(scoring)
        response = await put_judge(scoring, suites["demo-en-general-mcq"]["id"])
        assert response.status_code == 422
        assert response.json()["code"] == "suite-not-judged"

    @pytest.mark.parametrize(
        ("change", "needle"),
        [
            ({"endpoint": ENDPOINT | {"model_version": ""}}, "model_version"),
            ({"template": "Rate {answer}.", "template_version": "mine-1"}, "question"),
            ({"template": "Rate {question} {answer}."}, "template_version"),
            ({"max_attempts": 0}, "max_attempts"),
        ],
    )
    async def test_an_unpinned_model_or_an_incomplete_template_is_refused(
        self, scoring: Scoring, change: dict[str, Any], needle: str
    ) -> None:
        suite = await judged_suite(scoring)
        response = await put_judge(scoring, suite["id"], **change)
        assert response.status_code == 422
        assert needle in response.text

    async def test_teams_cannot_read_or_set_a_judge(self, scoring: Scoring) -> None:
        suite = await judged_suite(scoring)
        team = scoring.as_team(uuid.uuid4())
        assert (await scoring.client.get(f"/v1/suites/{suite['id']}/judge", headers=team)).status_code == 403
        response = await scoring.client.put(
            f"/v1/suites/{suite['id']}/judge", json={"mode": "single", "endpoint": ENDPOINT}, headers=team
        )
        assert response.status_code == 403


class TestStartingAJudgedStage:
    async def test_a_start_with_a_judged_suite_without_judge_is_dead_lettered_and_plans_nothing(
        self, scoring: Scoring
    ) -> None:
        suite = await judged_suite(scoring)
        world = await new_stage(scoring, ["Upstage"])
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria",
                json=criteria_body([uuid.UUID(suite["id"])]),
                headers=scoring.operator(),
            )
        )
        await publish(scoring.bootstrap, evaluation_started(world))

        headers = await watch_records(
            scoring.bootstrap, str(Topic.SCORING_DLQ), dead_letter(str(world.stage_id))
        )
        assert headers["fmc-dlq-error"].startswith("judge-not-set: ")
        async with scoring.runtime.sessions() as session:
            assert await planning.runs_of_stage(session, world.stage_id) == []
