"""Results through the API: a five-team stage decided by its gates, approval and publication,
re-evaluation as a new version, finalisation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from fmc_common.events.grievance import GrievanceWindowClosed, ReEvaluationConcern, ReEvaluationRequested
from fmc_common.events.topics import Topic
from scoring.harness import (
    FIVE_TEAM_OBJECTION_DAYS,
    Scoring,
    body,
    by_name,
    criteria_body,
    demo_suites,
    five_team_stage,
    grade_team,
    new_stage,
    publish,
    stage_events,
    start_evaluation,
)
from support.eventually import eventually

pytestmark = pytest.mark.broker


class TestProposeResult:
    async def test_five_teams_one_below_threshold_one_reused_three_advance_one_vacancy(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        result = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        teams = by_name(result)
        assert {n for n, t in teams.items() if t["outcome"] == "advance"} == {
            "Upstage",
            "SK Telecom",
            "LG AI Research",
        }
        assert (teams["NC AI"]["outcome"], teams["NC AI"]["reason"]) == ("eliminate", "benchmark-threshold")
        assert (teams["Naver Cloud"]["outcome"], teams["Naver Cloud"]["reason"]) == (
            "eliminate",
            "originality",
        )
        assert (result["advancing_planned"], result["advancing"], result["vacancies"]) == (4, 3, 1)
        assert result["blocking"] == []
        assert [teams[n]["rank"] for n in ("Upstage", "SK Telecom", "LG AI Research")] == [1, 2, 3]

    async def test_every_figure_links_to_its_inputs(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        result = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        lg = by_name(result)["LG AI Research"]["detail"]["inputs"]
        assert {figure["run_id"] for figure in lg["suites"].values()} <= {
            r["id"]
            for r in await body(
                await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=scoring.operator())
            )
        }
        assert len(lg["expert"]["score_ids"]) == 3
        assert len(lg["expert"]["dropped_score_ids"]) == 2
        assert lg["user"]["votes"] == 8
        assert lg["originality"]["verdict"] == "original"

    async def test_a_missing_originality_verdict_blocks_approval(self, scoring: Scoring) -> None:
        suites = await demo_suites(scoring)
        world = await new_stage(scoring, ["Solo"])
        suite_id = uuid.UUID(suites["demo-en-arithmetic"]["id"])
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/criteria",
                json=criteria_body(
                    [suite_id], part_weights={"benchmark": 1, "expert": 0, "user": 0}, advancing=1
                ),
                headers=scoring.operator(),
            )
        )
        await start_evaluation(scoring, world)
        await grade_team(scoring, world, world.teams["Solo"], 0.75)
        proposed = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        assert proposed["blocking"] == [f"{world.teams['Solo']}: gate:originality"]
        refused = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/{proposed['version']}/approval", headers=scoring.operator()
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "result-blocked"

    async def test_before_evaluation_starts_there_is_nothing_to_propose(self, scoring: Scoring) -> None:
        response = await scoring.client.post(f"/v1/stages/{uuid.uuid4()}/results", headers=scoring.operator())
        assert response.status_code == 409
        assert response.json()["code"] == "evaluation-not-started"

    @pytest.mark.parametrize("role_header", ["team", "evaluator", "service"])
    async def test_only_operators_propose(self, scoring: Scoring, role_header: str) -> None:
        headers = {
            "team": scoring.as_team(uuid.uuid4()),
            "evaluator": scoring.as_evaluator("ev"),
            "service": scoring.service(),
        }[role_header]
        response = await scoring.client.post(f"/v1/stages/{uuid.uuid4()}/results", headers=headers)
        assert response.status_code == 403


class TestApproveAndPublish:
    async def test_approval_publishes_outcomes_detail_and_a_public_announcement(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        proposed = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        approved = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/{proposed['version']}/approval",
                headers=scoring.operator(),
            )
        )
        assert approved["status"] == "approved"

        internal = await stage_events(
            scoring,
            Topic.SCORING,
            world,
            {"fmc.scoring.stage-results-published.v1", "fmc.scoring.stage-result-detailed.v1"},
        )
        published = internal["fmc.scoring.stage-results-published.v1"]
        # Grievance opens the windows with the stage's own number of days, from the registry.
        assert published["objection_days"] == FIVE_TEAM_OBJECTION_DAYS
        outcomes = {t["team_id"]: (t["outcome"], t["reason_code"]) for t in published["teams"]}
        assert outcomes[str(world.teams["Naver Cloud"])] == ("eliminated", "originality")
        detail = internal["fmc.scoring.stage-result-detailed.v1"]
        assert {t["rank"] for t in detail["teams"] if t["outcome"] == "advance"} == {1, 2, 3}

        public = await stage_events(scoring, Topic.PUBLIC, world, {"fmc.scoring.stage-result-announced.v1"})
        announced = public["fmc.scoring.stage-result-announced.v1"]
        assert {t["team_name"]: (t["outcome"], t["reason_category"]) for t in announced["teams"]} == {
            "Upstage": ("advanced", None),
            "SK Telecom": ("advanced", None),
            "LG AI Research": ("advanced", None),
            "NC AI": ("eliminated", "benchmark-threshold"),
            "Naver Cloud": ("eliminated", "originality"),
        }
        assert set(announced["teams"][0]) == {"team_id", "team_name", "outcome", "reason_category"}

    async def test_an_older_or_decided_version_is_not_approved(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        first = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        second = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        stale = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/{first['version']}/approval", headers=scoring.operator()
        )
        assert stale.json()["code"] == "result-not-proposed"  # superseded by the newer proposal
        await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/{second['version']}/approval",
                headers=scoring.operator(),
            )
        )
        again = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/{second['version']}/approval", headers=scoring.operator()
        )
        assert (again.status_code, again.json()["code"]) == (409, "result-not-proposed")


class TestReEvaluationAndFinalisation:
    async def test_re_evaluation_adds_a_version_and_the_window_closing_finalises_it(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        proposed = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/{proposed['version']}/approval",
                headers=scoring.operator(),
            )
        )
        # NC AI objects; its run is re-graded from the stored responses: the same numbers come back.
        request_id = uuid.uuid4()
        await publish(
            scoring.bootstrap,
            ReEvaluationRequested(
                stage_id=world.stage_id,
                decision_id=world.stage_id,
                request_id=request_id,
                objection_id=uuid.uuid4(),
                team_id=world.teams["NC AI"],
                concerns=[ReEvaluationConcern.BENCHMARK_SUITE],
                reason="the grading of suite demo-ko-general-mcq is disputed",
                requested_at=proposed["proposed_at"],
            ),
        )

        async def second_version() -> list[Any] | None:
            versions = await body(
                await scoring.client.get(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator())
            )
            return versions if len(versions) == 2 and versions[1]["status"] == "approved" else None

        versions = await eventually(second_version)
        first, second = versions
        assert first["status"] == "superseded"
        assert (second["cause"], second["cause_id"]) == ("re-evaluation", str(request_id))
        nc_before, nc_after = by_name(first)["NC AI"], by_name(second)["NC AI"]
        assert nc_after["benchmark"] == nc_before["benchmark"]  # identical numbers from stored responses

        await publish(
            scoring.bootstrap,
            GrievanceWindowClosed(
                stage_id=world.stage_id,
                decision_id=world.stage_id,
                windows_closed=5,
                objections_total=1,
                objections_accepted=1,
                re_evaluation_request_ids=[request_id],
                closed_at=proposed["proposed_at"],
            ),
        )
        finalized = await stage_events(scoring, Topic.SCORING, world, {"fmc.scoring.stage-finalized.v1"})
        final = finalized["fmc.scoring.stage-finalized.v1"]
        assert set(final["advancing_team_ids"]) == {
            str(world.teams[n]) for n in ("Upstage", "SK Telecom", "LG AI Research")
        }
        assert {e["reason_code"] for e in final["eliminated"]} == {"benchmark-threshold", "originality"}
        public = await body(await scoring.client.get(f"/v1/public/stages/{world.stage_id}/results"))
        assert public["final"] is True
