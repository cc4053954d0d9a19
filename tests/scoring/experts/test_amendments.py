"""Expert-score amendments through the API: only by the score's author, with a reason; the score is
kept as given, the amendment audited and counted (at once before the cut-off, out of window after)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fmc_scoring.audit.models import ScoringAuditEntry
from fmc_scoring.criteria.models import StageCriteria
from scoring.experts.test_panel_api import EVALUATORS, panel, rubric
from scoring.harness import Scoring, StageWorld, body

pytestmark = pytest.mark.broker


def amendment(value: float, reason: str | None = "typo: 56 was meant as 65") -> dict[str, Any]:
    return {
        "technical_originality": value,
        "technological_capability": value,
        "readiness": value,
        **({"reason": reason} if reason is not None else {}),
    }


async def scored(scoring: Scoring, values: list[float]) -> tuple[StageWorld, dict[str, str]]:
    """A panel whose evaluators scored LG AI Research; each evaluator's score id."""
    world = await panel(scoring)
    lg = world.teams["LG AI Research"]
    ids = {}
    for subject, value in zip(EVALUATORS, values, strict=False):
        score = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/panel/scores",
                json=rubric(lg, value),
                headers=scoring.as_evaluator(subject),
            ),
            201,
        )
        ids[subject] = score["id"]
    return world, ids


def amend_url(world: StageWorld, score_id: str) -> str:
    return f"/v1/stages/{world.stage_id}/panel/scores/{score_id}/amendments"


class TestAmendScore:
    async def test_the_author_corrects_a_typo_and_the_amended_value_counts(self, scoring: Scoring) -> None:
        world, ids = await scored(scoring, [60, 70, 56])
        made = await body(
            await scoring.client.post(
                amend_url(world, ids["expert-2"]),
                json=amendment(65),
                headers=scoring.as_evaluator("expert-2"),
            ),
            201,
        )
        assert (made["score_id"], made["evaluator"], made["in_window"]) == (ids["expert-2"], "expert-2", True)
        summary = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/summary", headers=scoring.operator())
        )
        assert summary[0]["value"] == pytest.approx(65.0)  # (60 + 70 + 65) / 3, not with 56
        scores = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/scores", headers=scoring.operator())
        )
        kept = next(s for s in scores if s["id"] == ids["expert-2"])
        assert kept["readiness"] == 56  # the score as given is kept
        assert [(a["readiness"], a["reason"]) for a in kept["amendments"]] == [
            (65, "typo: 56 was meant as 65")
        ]
        async with scoring.runtime.sessions() as session:
            entry = await session.scalar(
                select(ScoringAuditEntry).where(
                    ScoringAuditEntry.action == "expert-score.amended",
                    ScoringAuditEntry.entity_id == ids["expert-2"],
                )
            )
        assert entry is not None
        assert (entry.actor_subject, entry.reason) == ("expert-2", "typo: 56 was meant as 65")
        assert entry.details["before"]["readiness"] == 56
        assert entry.details["after"]["readiness"] == 65

    async def test_another_evaluators_score_is_refused(self, scoring: Scoring) -> None:
        world, ids = await scored(scoring, [60, 70])
        response = await scoring.client.post(
            amend_url(world, ids["expert-1"]), json=amendment(90), headers=scoring.as_evaluator("expert-2")
        )
        assert (response.status_code, response.json()["code"]) == (403, "not-your-score")

    async def test_an_operator_cannot_amend_an_experts_score(self, scoring: Scoring) -> None:
        world, ids = await scored(scoring, [60])
        response = await scoring.client.post(
            amend_url(world, ids["expert-0"]), json=amendment(90), headers=scoring.operator()
        )
        assert response.status_code == 403

    async def test_an_unknown_score_or_one_of_another_stage_is_not_found(self, scoring: Scoring) -> None:
        world, ids = await scored(scoring, [60])
        other, _ = await scored(scoring, [])
        for url in (amend_url(world, str(uuid.uuid4())), amend_url(other, ids["expert-0"])):
            response = await scoring.client.post(
                url, json=amendment(90), headers=scoring.as_evaluator("expert-0")
            )
            assert (response.status_code, response.json()["code"]) == (404, "expert-score-not-found")

    async def test_an_amendment_needs_a_reason_and_a_change(self, scoring: Scoring) -> None:
        world, ids = await scored(scoring, [60])
        url, author = amend_url(world, ids["expert-0"]), scoring.as_evaluator("expert-0")
        no_reason = await scoring.client.post(url, json=amendment(65, reason=None), headers=author)
        assert no_reason.status_code == 422
        same = await scoring.client.post(url, json=amendment(60), headers=author)
        assert (same.status_code, same.json()["code"]) == (422, "amendment-unchanged")
        await body(await scoring.client.post(url, json=amendment(65), headers=author), 201)
        again = await scoring.client.post(url, json=amendment(65), headers=author)
        assert (again.status_code, again.json()["code"]) == (422, "amendment-unchanged")

    async def test_a_second_score_of_the_same_team_is_still_refused(self, scoring: Scoring) -> None:
        world, _ = await scored(scoring, [60])
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(world.teams["LG AI Research"], 65),
            headers=scoring.as_evaluator("expert-0"),
        )
        assert (response.status_code, response.json()["code"]) == (409, "already-scored")

    async def test_after_the_cutoff_an_amendment_is_accepted_and_marked_out_of_window(
        self, scoring: Scoring
    ) -> None:
        world, ids = await scored(scoring, [60, 70, 56])
        async with scoring.ctx() as ctx:  # the stage's evaluation closed a minute ago
            ctx.session.add(
                StageCriteria(
                    stage_id=world.stage_id,
                    advancing=1,
                    weight_benchmark=0.5,
                    weight_expert=0.3,
                    weight_user=0.2,
                    tie_break=["benchmark"],
                    decoding={},
                    limits={},
                    revision=1,
                    updated_by="operator-kim",
                    updated_at=datetime.now(UTC),
                    evidence_cutoff=datetime.now(UTC) - timedelta(seconds=1),
                    evidence_cutoff_source="criteria",
                )
            )
        late = await body(
            await scoring.client.post(
                amend_url(world, ids["expert-2"]),
                json=amendment(65),
                headers=scoring.as_evaluator("expert-2"),
            ),
            201,
        )
        assert late["in_window"] is False
        scores = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/scores", headers=scoring.operator())
        )
        assert all(s["in_window"] is False for s in scores)  # given after the (back-dated) cut-off
        assert [a["in_window"] for s in scores for a in s["amendments"]] == [False]
