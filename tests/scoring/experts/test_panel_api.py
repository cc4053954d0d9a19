"""The expert panel through the API: rubric scores, conflicts of interest, the deadline, the trimmed mean."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scoring.harness import Scoring, StageWorld, body, new_stage

pytestmark = pytest.mark.broker
EVALUATORS = [f"expert-{i}" for i in range(5)]


async def panel(
    scoring: Scoring, *, deadline: datetime | None = None, conflicts: list[str] | None = None
) -> StageWorld:
    world = await new_stage(scoring, ["Upstage", "LG AI Research"])
    evaluators: list[dict[str, Any]] = [
        {"subject": s, "name": f"Dr. {s}", "affiliations": ["KAIST"], "conflicts": conflicts or []}
        for s in EVALUATORS
    ]
    evaluators[0]["affiliations"] = [
        "\uff35\uff30\uff33\uff34\uff21\uff27\uff25 \uff43\uff4f\uff52\uff50"
    ]  # the lead organisation, written differently
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/panel",
            json={
                "deadline": (deadline or datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "evaluators": evaluators,
            },
            headers=scoring.operator(),
        )
    )
    return world


def rubric(team_id: uuid.UUID, value: float) -> dict[str, Any]:
    return {
        "team_id": str(team_id),
        "technical_originality": value,
        "technological_capability": value,
        "readiness": value,
        "comment": "독자적인 토크나이저와 학습 파이프라인",
    }


class TestSubmitScore:
    async def test_scores_are_kept_and_aggregated_by_trimmed_mean(self, scoring: Scoring) -> None:
        world = await panel(scoring)
        lg = world.teams["LG AI Research"]
        for subject, value in zip(EVALUATORS, [10, 60, 70, 80, 100], strict=True):
            await body(
                await scoring.client.post(
                    f"/v1/stages/{world.stage_id}/panel/scores",
                    json=rubric(lg, value),
                    headers=scoring.as_evaluator(subject),
                ),
                201,
            )
        summary = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/summary", headers=scoring.operator())
        )
        assert summary[0]["value"] == pytest.approx(70.0)
        assert len(summary[0]["used_score_ids"]) == 3
        assert len(summary[0]["dropped_score_ids"]) == 2
        scores = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/scores", headers=scoring.operator())
        )
        assert len(scores) == 5

    async def test_an_evaluator_of_the_teams_organisation_cannot_score_it(self, scoring: Scoring) -> None:
        world = await panel(scoring)
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(world.teams["Upstage"], 90),
            headers=scoring.as_evaluator(EVALUATORS[0]),
        )
        assert (response.status_code, response.json()["code"]) == (409, "conflict-of-interest")

    async def test_a_declared_conflict_is_honoured(self, scoring: Scoring) -> None:
        world = await panel(scoring)
        lg = world.teams["LG AI Research"]
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/panel",
                json={
                    "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                    "evaluators": [{"subject": "expert-x", "name": "X", "conflicts": [str(lg)]}],
                },
                headers=scoring.operator(),
            )
        )
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(lg, 50),
            headers=scoring.as_evaluator("expert-x"),
        )
        assert response.json()["code"] == "conflict-of-interest"

    async def test_after_the_deadline_the_panel_is_closed(self, scoring: Scoring) -> None:
        world = await panel(scoring, deadline=datetime.now(UTC) - timedelta(minutes=1))
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(world.teams["LG AI Research"], 50),
            headers=scoring.as_evaluator(EVALUATORS[1]),
        )
        assert (response.status_code, response.json()["code"]) == (409, "panel-closed")
        assert response.json()["deadline"].endswith("+09:00")

    async def test_a_second_score_of_the_same_team_is_refused(self, scoring: Scoring) -> None:
        world = await panel(scoring)
        path = f"/v1/stages/{world.stage_id}/panel/scores"
        lg = world.teams["LG AI Research"]
        await body(
            await scoring.client.post(path, json=rubric(lg, 50), headers=scoring.as_evaluator(EVALUATORS[1])),
            201,
        )
        again = await scoring.client.post(
            path, json=rubric(lg, 90), headers=scoring.as_evaluator(EVALUATORS[1])
        )
        assert again.json()["code"] == "already-scored"

    async def test_an_evaluator_not_on_the_panel_cannot_score(self, scoring: Scoring) -> None:
        world = await panel(scoring)
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(world.teams["LG AI Research"], 50),
            headers=scoring.as_evaluator("stranger"),
        )
        assert (response.status_code, response.json()["code"]) == (403, "not-on-panel")

    @pytest.mark.parametrize("value", [-1, 101])
    async def test_a_score_outside_0_to_100_is_refused(self, scoring: Scoring, value: float) -> None:
        world = await panel(scoring)
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(world.teams["LG AI Research"], value),
            headers=scoring.as_evaluator(EVALUATORS[1]),
        )
        assert response.status_code == 422

    async def test_an_evaluator_sees_only_its_own_scores(self, scoring: Scoring) -> None:
        world = await panel(scoring)
        lg = world.teams["LG AI Research"]
        for subject in EVALUATORS[1:3]:
            await body(
                await scoring.client.post(
                    f"/v1/stages/{world.stage_id}/panel/scores",
                    json=rubric(lg, 50),
                    headers=scoring.as_evaluator(subject),
                ),
                201,
            )
        mine = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/panel/scores", headers=scoring.as_evaluator(EVALUATORS[1])
            )
        )
        assert [s["evaluator"] for s in mine] == [EVALUATORS[1]]
