"""Frozen evidence: the cut-off (late runs, scores and votes kept, marked, never counted), the
snapshot a version stores, and re-evaluations that change only what the accepted objection concerns."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fmc_common.events.grievance import ReEvaluationConcern, ReEvaluationRequested
from fmc_scoring.criteria.models import StageCriteria
from fmc_scoring.experts.models import ExpertScore
from fmc_scoring.planning import repository as planning
from fmc_scoring.suites import service as suites
from scoring.harness import (
    Scoring,
    StageWorld,
    add_votes,
    body,
    by_name,
    five_team_stage,
    publish,
)
from support.eventually import eventually

pytestmark = pytest.mark.broker


async def propose(scoring: Scoring, world: StageWorld) -> dict[str, Any]:
    proposed: dict[str, Any] = await body(
        await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
    )
    return proposed


async def publish_first(scoring: Scoring, world: StageWorld) -> dict[str, Any]:
    """Version 1 proposed and approved (publication fixes the cut-off to its evidence)."""
    proposed = await propose(scoring, world)
    await body(
        await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/{proposed['version']}/approval", headers=scoring.operator()
        )
    )
    return await version(scoring, world, proposed["version"])


async def version(scoring: Scoring, world: StageWorld, number: int) -> dict[str, Any]:
    found: dict[str, Any] = await body(
        await scoring.client.get(f"/v1/stages/{world.stage_id}/results/{number}", headers=scoring.operator())
    )
    return found


async def re_evaluated(
    scoring: Scoring, world: StageWorld, team: str, concern: ReEvaluationConcern, number: int
) -> tuple[dict[str, Any], uuid.UUID]:
    """An accepted objection of ``team`` on ``concern``; the version it gives (``number``)."""
    request_id = uuid.uuid4()
    await publish(
        scoring.bootstrap,
        ReEvaluationRequested(
            stage_id=world.stage_id,
            decision_id=world.stage_id,
            request_id=request_id,
            objection_id=uuid.uuid4(),
            team_id=world.teams[team],
            concerns=[concern],
            reason=f"objection of {team} on the {concern.value} accepted",
            requested_at=datetime.now(UTC),
        ),
    )

    async def arrived() -> dict[str, Any] | None:
        response = await scoring.client.get(
            f"/v1/stages/{world.stage_id}/results/{number}", headers=scoring.operator()
        )
        return response.json() if response.status_code == 200 else None

    return await eventually(arrived), request_id


def figures(result: dict[str, Any], name: str) -> tuple[Any, ...]:
    team = by_name(result)[name]
    return team["benchmark"], team["expert"], team["user"], team["outcome"], team["detail"]["inputs"]


async def score_ids(scoring: Scoring, world: StageWorld, team: str) -> dict[str, str]:
    scores = await body(
        await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/scores", headers=scoring.operator())
    )
    return {s["evaluator"]: s["id"] for s in scores if s["team_id"] == str(world.teams[team])}


async def close_evaluation_now(scoring: Scoring, world: StageWorld) -> datetime:
    """The stage's stated cut-off, as if the criteria had said the evaluation closes now."""
    cut = datetime.now(UTC)
    async with scoring.ctx() as ctx:
        row = await ctx.session.get(StageCriteria, world.stage_id)
        assert row is not None
        row.evidence_cutoff, row.evidence_cutoff_source = cut, "criteria"
    return cut


class TestCutoff:
    async def test_runs_scores_and_votes_after_the_cutoff_are_kept_marked_and_never_counted(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        t = world.teams
        await close_evaluation_now(scoring, world)
        await add_votes(scoring, world, t["Upstage"], t["SK Telecom"], ["b", "b", "b"])
        late_score = uuid.uuid4()
        async with scoring.ctx() as ctx:
            ctx.session.add(
                ExpertScore(
                    id=late_score,
                    stage_id=world.stage_id,
                    team_id=t["Upstage"],
                    evaluator="expert-late",
                    technical_originality=0.0,
                    technological_capability=0.0,
                    readiness=0.0,
                    comment="late",
                    submitted_at=ctx.clock.now(),
                )
            )
            late_run = next(
                r
                for r in await planning.runs_of_stage(ctx.session, world.stage_id)
                if r.team_id == t["NC AI"]
            )
            late_run.completed_at = ctx.clock.now() + timedelta(minutes=1)
        proposed = await version(scoring, world, (await propose(scoring, world))["version"])
        evidence = proposed["inputs"]["evidence"]
        assert evidence["cutoff_source"] == "criteria"
        assert (evidence["runs_out_of_window"], evidence["expert_scores_out_of_window"]) == (1, 1)
        assert (evidence["arena"]["votes"], evidence["arena"]["out_of_window"]) == (20, 3)
        assert str(late_score) not in evidence["expert_score_ids"]
        assert str(late_run.id) not in {g["run_id"] for g in evidence["grades"]}
        assert by_name(proposed)["Upstage"]["expert"] == pytest.approx(82.0)  # without the late 0
        assert any("NC AI" in b or str(t["NC AI"]) in b for b in proposed["blocking"])  # its suite is missing
        # The read views say which records are out of window.
        op = scoring.operator()
        runs = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=op))
        assert [r["id"] for r in runs if not r["in_window"]] == [str(late_run.id)]
        scores = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/scores", headers=op))
        assert [s["id"] for s in scores if not s["in_window"]] == [str(late_score)]
        votes = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/arena/votes", headers=op))
        assert sum(1 for v in votes if not v["in_window"]) == 3
        assert len(votes) == 23
        standings = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/arena/standings", headers=op)
        )
        assert standings["votes"] == 20

    async def test_without_a_stated_cutoff_publication_fixes_it_and_later_votes_never_count(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        first = await publish_first(scoring, world)
        criteria = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/criteria", headers=scoring.operator())
        )
        assert criteria["evidence_cutoff_source"] == "publication"
        assert datetime.fromisoformat(criteria["evidence_cutoff"]) == datetime.fromisoformat(
            first["inputs"]["evidence"]["cutoff"]
        )
        t = world.teams
        await add_votes(scoring, world, t["LG AI Research"], t["Upstage"], ["a"] * 12)
        second, _ = await re_evaluated(scoring, world, "NC AI", ReEvaluationConcern.PROCESS, 2)
        assert second["inputs"]["evidence"]["arena"]["votes"] == 20
        assert second["inputs"]["evidence"]["arena"]["out_of_window"] == 12
        for name in t:
            assert by_name(second)[name]["user"] == by_name(first)[name]["user"]


class TestSnapshot:
    async def test_version_one_stores_the_exact_evidence_it_used(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        first = await version(scoring, world, (await propose(scoring, world))["version"])
        evidence = first["inputs"]["evidence"]
        op = scoring.operator()
        runs = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=op))
        assert {g["run_id"] for g in evidence["grades"]} == {r["id"] for r in runs}
        assert all(g["responses_sha256"] == "0" * 64 and g["key_revision"] == 1 for g in evidence["grades"])
        scores = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/scores", headers=op))
        assert sorted(evidence["expert_score_ids"]) == sorted(s["id"] for s in scores)
        votes = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/arena/votes", headers=op))
        ids = "".join(f"{v}\n" for v in sorted(v["battle_id"] for v in votes))
        assert evidence["arena"] == {
            "votes": 20,
            "votes_sha256": hashlib.sha256(ids.encode()).hexdigest(),
            "out_of_window": 0,
            "excluded": 0,
        }
        assert len(evidence["originality_check_ids"]) == 5
        assert evidence["cutoff_source"] == "proposal"
        assert (first["inputs"]["based_on_version"], first["inputs"]["changes"]) == (None, [])


class TestReEvaluation:
    async def test_an_amendment_corrects_only_the_objecting_part_and_late_votes_do_not_count(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        t = world.teams
        first = await publish_first(scoring, world)
        # After publication: votes that would move every team's user figure, and an expert's typo fix.
        await add_votes(scoring, world, t["LG AI Research"], t["Upstage"], ["a"] * 10)
        lg_scores = await score_ids(scoring, world, "LG AI Research")
        amended = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/panel/scores/{lg_scores['expert-0']}/amendments",
                json={
                    "technical_originality": 75,
                    "technological_capability": 75,
                    "readiness": 75,
                    "reason": "65 was a typo for 75",
                },
                headers=scoring.as_evaluator("expert-0"),
            ),
            201,
        )
        assert amended["in_window"] is False  # after the cut-off: only a re-evaluation applies it
        # An objection on something else leaves the amendment out.
        second, _ = await re_evaluated(scoring, world, "LG AI Research", ReEvaluationConcern.ORIGINALITY, 2)
        assert by_name(second)["LG AI Research"]["expert"] == by_name(first)["LG AI Research"]["expert"]
        assert second["inputs"]["changes"] == []
        third, request_id = await re_evaluated(
            scoring, world, "LG AI Research", ReEvaluationConcern.EXPERT_PANEL, 3
        )
        lg_before, lg_after = by_name(second)["LG AI Research"], by_name(third)["LG AI Research"]
        assert lg_after["expert"] == pytest.approx(lg_before["expert"] + 10 / 3)  # 65 -> 75, kept in the mean
        assert lg_after["detail"]["inputs"]["expert"]["amendment_ids"] == [amended["id"]]
        for name in t:
            if name != "LG AI Research":
                assert figures(third, name) == figures(second, name)
            assert by_name(third)[name]["user"] == by_name(first)[name]["user"]
            assert by_name(third)[name]["benchmark"] == by_name(first)[name]["benchmark"]
        inputs = third["inputs"]
        assert (inputs["based_on_version"], inputs["concerns"]) == (2, ["expert-panel"])
        assert inputs["evidence"]["arena"] == first["inputs"]["evidence"]["arena"]
        [change] = inputs["changes"]
        assert (change["part"], change["team_id"], change["cause_id"]) == (
            "expert",
            str(t["LG AI Research"]),
            str(request_id),
        )
        assert change["reason"] == "objection of LG AI Research on the expert-panel accepted"
        assert amended["id"] in change["after"]["amendment_ids"]
        assert change["before"]["amendment_ids"] == []

    async def test_an_answer_key_erratum_regrades_every_team(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        first = await publish_first(scoring, world)
        ko = world.suite_ids[0]
        async with scoring.runtime.sessions() as session:
            content = await suites.load_content(session, await suites.get_suite(session, ko))
        item = content.items[0]  # every team answered it right (the harness answers the first ones right)
        assert item.key.choice is not None
        wrong = (item.key.choice + 1) % len(item.choices)
        revision = await body(
            await scoring.client.post(
                f"/v1/suites/{ko}/key-revisions",
                json={
                    "reason": "the source lists another answer",
                    "items": [{"item_id": item.item_id, "answer_index": wrong}],
                },
                headers=scoring.operator(),
            ),
            201,
        )
        assert (revision["revision"], revision["item_ids"]) == (2, [item.item_id])
        second, request_id = await re_evaluated(
            scoring, world, "NC AI", ReEvaluationConcern.BENCHMARK_SUITE, 2
        )
        changed = {c["team_id"] for c in second["inputs"]["changes"]}
        assert changed == {str(team) for team in world.teams.values()}
        assert {c["part"] for c in second["inputs"]["changes"]} == {"benchmark"}
        for name in world.teams:
            before, after = by_name(first)[name], by_name(second)[name]
            suites_after = after["detail"]["inputs"]["suites"]
            ko_after = next(f for f in suites_after.values() if f["suite_id"] == str(ko))
            ko_before = next(
                f for f in before["detail"]["inputs"]["suites"].values() if f["suite_id"] == str(ko)
            )
            assert ko_after["key_revision"] == 2
            assert ko_after["accuracy"] < ko_before["accuracy"]  # item 0 is now wrong for everyone
            assert (after["expert"], after["user"]) == (before["expert"], before["user"])
        grades = second["inputs"]["evidence"]["grades"]
        assert {g["key_revision"] for g in grades if g["suite"].startswith("demo-ko")} == {2}
        assert all(c["cause_id"] == str(request_id) for c in second["inputs"]["changes"])

    async def test_excluded_votes_never_count_and_after_publication_only_through_the_process(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        op = scoring.operator()
        excluded = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/arena/exclusions",
                json={"category": "vote-stuffing", "reason": "one person, many accounts", "voter": "voter-0"},
                headers=op,
            ),
            201,
        )
        assert excluded["excluded"] == 5
        assert len(excluded["vote_ids"]) == 5
        first = await publish_first(scoring, world)
        assert first["inputs"]["evidence"]["arena"]["votes"] == 15
        assert first["inputs"]["evidence"]["arena"]["excluded"] == 5
        votes = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/arena/votes", headers=op))
        assert sum(1 for v in votes if v["exclusion_id"] == excluded["exclusion_id"]) == 5
        again = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/arena/exclusions",
            json={"category": "vote-stuffing", "reason": "again", "vote_ids": excluded["vote_ids"]},
            headers=op,
        )
        assert (again.status_code, again.json()["code"]) == (409, "votes-already-excluded")
        # After publication: a further exclusion waits for a re-evaluation concerning the process.
        await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/arena/exclusions",
                json={"category": "automated-voting", "reason": "a script", "voter": "voter-1"},
                headers=op,
            ),
            201,
        )
        second, _ = await re_evaluated(scoring, world, "NC AI", ReEvaluationConcern.EXPERT_PANEL, 2)
        assert second["inputs"]["evidence"]["arena"] == first["inputs"]["evidence"]["arena"]
        third, _ = await re_evaluated(scoring, world, "NC AI", ReEvaluationConcern.PROCESS, 3)
        assert third["inputs"]["evidence"]["arena"]["excluded"] == 10
        assert third["inputs"]["evidence"]["arena"]["votes"] == 10
        assert "arena" in {c["part"] for c in third["inputs"]["changes"]}


class TestExclusionRefusals:
    async def test_unknown_votes_a_missing_selection_and_non_operators_are_refused(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        url = f"/v1/stages/{world.stage_id}/arena/exclusions"
        unknown = await scoring.client.post(
            url,
            json={"category": "other", "reason": "x", "vote_ids": [str(uuid.uuid4())]},
            headers=scoring.operator(),
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "vote-not-found")
        neither = await scoring.client.post(
            url, json={"category": "other", "reason": "x"}, headers=scoring.operator()
        )
        assert neither.status_code == 422
        team = await scoring.client.post(
            url,
            json={"category": "other", "reason": "x", "voter": "voter-0"},
            headers=scoring.as_team(world.teams["NC AI"]),
        )
        assert team.status_code == 403
