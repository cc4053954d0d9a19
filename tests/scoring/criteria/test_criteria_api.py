"""Stage criteria: set by operators with revisions, validated at the edge, frozen once evaluation starts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from scoring.harness import Scoring, body, criteria_body, demo_suites, new_stage, start_evaluation

pytestmark = pytest.mark.broker


async def suite_ids(scoring: Scoring) -> list[uuid.UUID]:
    suites = await demo_suites(scoring)
    return [uuid.UUID(suites[k]["id"]) for k in ("demo-ko-general-mcq", "demo-en-arithmetic")]


class TestSetCriteria:
    async def test_operator_sets_criteria_and_each_change_is_a_new_revision(self, scoring: Scoring) -> None:
        stage_id = uuid.uuid4()
        ids = await suite_ids(scoring)
        path = f"/v1/stages/{stage_id}/criteria"
        first = await body(
            await scoring.client.put(path, json=criteria_body(ids), headers=scoring.operator())
        )
        second = await body(
            await scoring.client.put(path, json=criteria_body(ids, advancing=3), headers=scoring.operator())
        )
        assert (first["revision"], second["revision"]) == (1, 2)
        assert second["advancing"] == 3
        assert {s["suite_key"] for s in second["suites"]} == {"demo-ko-general-mcq", "demo-en-arithmetic"}
        assert second["frozen_at"] is None

    async def test_the_evaluations_close_is_stated_as_the_evidence_cutoff(self, scoring: Scoring) -> None:
        stage_id = uuid.uuid4()
        ids = await suite_ids(scoring)
        path = f"/v1/stages/{stage_id}/criteria"
        stated = await body(
            await scoring.client.put(
                path,
                json=criteria_body(ids, evidence_cutoff="2026-12-20T18:00:00+09:00"),
                headers=scoring.operator(),
            )
        )
        assert stated["evidence_cutoff_source"] == "criteria"
        assert datetime.fromisoformat(stated["evidence_cutoff"]) == datetime(2026, 12, 20, 9, tzinfo=UTC)
        unstated = await body(
            await scoring.client.put(path, json=criteria_body(ids), headers=scoring.operator())
        )
        assert (unstated["evidence_cutoff"], unstated["evidence_cutoff_source"]) == (None, None)

    async def test_a_team_reads_the_criteria_it_agreed_to(self, scoring: Scoring) -> None:
        stage_id = uuid.uuid4()
        ids = await suite_ids(scoring)
        await body(
            await scoring.client.put(
                f"/v1/stages/{stage_id}/criteria", json=criteria_body(ids), headers=scoring.operator()
            )
        )
        read = await body(
            await scoring.client.get(f"/v1/stages/{stage_id}/criteria", headers=scoring.as_team(uuid.uuid4()))
        )
        assert read["overall_threshold"] == 0.4

    async def test_an_unknown_suite_is_refused(self, scoring: Scoring) -> None:
        response = await scoring.client.put(
            f"/v1/stages/{uuid.uuid4()}/criteria",
            json=criteria_body([uuid.uuid4()]),
            headers=scoring.operator(),
        )
        assert (response.status_code, response.json()["code"]) == (404, "suite-not-found")

    @pytest.mark.parametrize(
        "change",
        [
            {"part_weights": {"benchmark": 0, "expert": 0, "user": 0}},
            {"advancing": -1},
            {"overall_threshold": 1.5},
            {"tie_break": ["benchmark", "benchmark"]},
            {"unexpected": True},
            {"evidence_cutoff": "2026-12-20T18:00:00"},
        ],
        ids=[
            "no-weight",
            "negative-advancing",
            "threshold-above-one",
            "repeated-tie-break",
            "unknown-field",
            "cutoff-without-offset",
        ],
    )
    async def test_invalid_criteria_are_refused_at_the_edge(
        self, scoring: Scoring, change: dict[str, object]
    ) -> None:
        ids = await suite_ids(scoring)
        response = await scoring.client.put(
            f"/v1/stages/{uuid.uuid4()}/criteria",
            json=criteria_body(ids, **change),
            headers=scoring.operator(),
        )
        assert (response.status_code, response.json()["code"]) == (422, "validation-failed")

    async def test_the_same_suite_twice_is_refused(self, scoring: Scoring) -> None:
        ids = await suite_ids(scoring)
        response = await scoring.client.put(
            f"/v1/stages/{uuid.uuid4()}/criteria",
            json=criteria_body([ids[0], ids[0]]),
            headers=scoring.operator(),
        )
        assert response.status_code == 422

    async def test_a_multiple_choice_suite_may_be_scored_by_log_likelihood(self, scoring: Scoring) -> None:
        mcq, arithmetic = await suite_ids(scoring)
        body_ = criteria_body([mcq, arithmetic])
        body_["suites"][0] |= {"scoring": "loglikelihood", "normalisation": "per-token"}
        path = f"/v1/stages/{uuid.uuid4()}/criteria"
        read = await body(await scoring.client.put(path, json=body_, headers=scoring.operator()))
        by_key = {s["suite_key"]: s for s in read["suites"]}
        assert (by_key["demo-ko-general-mcq"]["scoring"], by_key["demo-ko-general-mcq"]["normalisation"]) == (
            "loglikelihood",
            "per-token",
        )
        assert (by_key["demo-en-arithmetic"]["scoring"], by_key["demo-en-arithmetic"]["normalisation"]) == (
            "generate",
            None,
        )
        body_["suites"][0].pop("normalisation")
        read = await body(await scoring.client.put(path, json=body_, headers=scoring.operator()))
        assert {s["normalisation"] for s in read["suites"]} == {"raw", None}

    async def test_log_likelihood_is_refused_where_it_does_not_apply(self, scoring: Scoring) -> None:
        mcq, arithmetic = await suite_ids(scoring)
        numeric = criteria_body([arithmetic])
        numeric["suites"][0]["scoring"] = "loglikelihood"
        path = f"/v1/stages/{uuid.uuid4()}/criteria"
        response = await scoring.client.put(path, json=numeric, headers=scoring.operator())
        assert (response.status_code, response.json()["code"]) == (422, "scoring-not-applicable")
        assert "applies to multiple-choice suites" in response.json()["detail"]
        stray = criteria_body([mcq])
        stray["suites"][0]["normalisation"] = "per-byte"
        response = await scoring.client.put(path, json=stray, headers=scoring.operator())
        assert (response.status_code, response.json()["code"]) == (422, "validation-failed")

    async def test_only_operators_set_criteria(self, scoring: Scoring) -> None:
        ids = await suite_ids(scoring)
        response = await scoring.client.put(
            f"/v1/stages/{uuid.uuid4()}/criteria",
            json=criteria_body(ids),
            headers=scoring.as_team(uuid.uuid4()),
        )
        assert response.status_code == 403


class TestFrozenCriteria:
    async def test_a_criteria_change_after_evaluation_started_is_refused(self, scoring: Scoring) -> None:
        ids = await suite_ids(scoring)
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        path = f"/v1/stages/{world.stage_id}/criteria"
        await body(await scoring.client.put(path, json=criteria_body(ids), headers=scoring.operator()))
        await start_evaluation(scoring, world)

        refused = await scoring.client.put(
            path, json=criteria_body(ids, advancing=1), headers=scoring.operator()
        )

        assert refused.status_code == 409
        assert refused.json()["code"] == "criteria-frozen"
        assert refused.json()["frozen_at"]
        kept = await body(await scoring.client.get(path, headers=scoring.operator()))
        assert (kept["advancing"], kept["revision"]) == (4, 1)
        assert kept["frozen_at"] is not None
