"""What an evaluator reads of each model (sampled benchmark responses, blind) and the evaluator's own
declaration of a conflict of interest, through the API on both backends."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fmc_scoring.audit.models import ScoringAuditEntry
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.criteria.models import StageCriteria
from fmc_scoring.experts import service as experts
from fmc_scoring.grading import service as grading
from fmc_scoring.planning import repository as planning
from fmc_scoring.settings import ScoringSettings
from fmc_scoring.suites import service as suites
from scoring.experts.test_panel_api import rubric
from scoring.harness import (
    Scoring,
    StageWorld,
    body,
    criteria_body,
    demo_suites,
    grade_team,
    new_stage,
    start_evaluation,
)

pytestmark = pytest.mark.broker

UPSTAGE, LG = "Upstage", "LG AI Research"
# expert-0 works for Upstage's lead organisation; the others are independent.
EVALUATORS = [
    {"subject": "expert-0", "name": "Dr. Zero", "affiliations": ["Upstage Corp"]},
    {"subject": "expert-1", "name": "Dr. One", "affiliations": ["KAIST"]},
    {"subject": "expert-2", "name": "Dr. Two", "affiliations": ["POSTECH"]},
]
LONG = "가" * 9000  # longer than PANEL_SAMPLE_CHARS (4,000)


def panel_body(deadline: datetime | None = None) -> dict[str, Any]:
    return {
        "deadline": (deadline or datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "evaluators": EVALUATORS,
    }


async def evaluated(
    scoring: Scoring, *, deadline: datetime | None = None, long_answers: bool = False
) -> StageWorld:
    """A stage in evaluation with two graded teams (Upstage mostly right; LG giving one answer to
    everything, at length with ``long_answers``) and a panel of three."""
    installed = await demo_suites(scoring)
    world = await new_stage(scoring, [UPSTAGE, LG])
    world.suite_ids = [uuid.UUID(installed[k]["id"]) for k in ("demo-ko-general-mcq", "demo-en-arithmetic")]
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/criteria",
            json=criteria_body(world.suite_ids, advancing=1),
            headers=scoring.operator(),
        )
    )
    await start_evaluation(scoring, world, planned_advancing=1)
    await grade_team(scoring, world, world.teams[UPSTAGE], 0.9)
    await answer_all(scoring, world, world.teams[LG], LONG if long_answers else "I think it is 42.")
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/panel", json=panel_body(deadline), headers=scoring.operator()
        )
    )
    return world


async def answer_all(scoring: Scoring, world: StageWorld, team_id: uuid.UUID, text: str) -> None:
    """Grade the team's runs from one answer to every item (unlike any answer ``grade_team`` gives)."""
    async with scoring.ctx() as ctx:
        for run in await planning.runs_of_stage(ctx.session, world.stage_id):
            if run.team_id == team_id:
                content = await suites.load_content(
                    ctx.session, await suites.get_suite(ctx.session, run.suite_id)
                )
                responses = [grading.Response(item.item_id, text) for item in content.items]
                await grading.grade_run(ctx, run, responses, "0" * 64, rounds=200)


def sample_url(world: StageWorld, team: str | uuid.UUID) -> str:
    team_id = world.teams[team] if isinstance(team, str) else team
    return f"/v1/stages/{world.stage_id}/panel/teams/{team_id}/sample"


def conflicts_url(world: StageWorld) -> str:
    return f"/v1/stages/{world.stage_id}/panel/conflicts"


async def sample(scoring: Scoring, world: StageWorld, team: str, subject: str) -> dict[str, Any]:
    return dict(
        await body(await scoring.client.get(sample_url(world, team), headers=scoring.as_evaluator(subject)))
    )


async def stored_responses(scoring: Scoring, world: StageWorld, team_id: uuid.UUID) -> set[str | None]:
    async with scoring.ctx() as ctx:
        found: set[str | None] = set()
        for run in await planning.runs_of_stage(ctx.session, world.stage_id):
            if run.team_id == team_id:
                found |= {r.text for r in await grading.stored_responses(ctx, run.id)}
        return found


def assert_blind(world: StageWorld, answer: Any) -> None:
    """No team named or identified, and no figure of merit (a problem's ``instance`` is the caller's own
    request path, which the web tier, not the person, wrote)."""
    if isinstance(answer, dict):
        answer = {k: v for k, v in answer.items() if k != "instance"}
    text = json.dumps(answer, ensure_ascii=False)
    for name, team_id in world.teams.items():
        assert str(team_id) not in text
        assert name not in text
        assert f"{name} Corp" not in text
    for word in ("correct", "accuracy", "grade", "credit", 'score"', "team"):
        assert f'"{word}' not in text, word


class TestSampledResponses:
    async def test_every_evaluator_reads_the_same_items_of_every_model_with_its_own_answers(
        self, scoring: Scoring
    ) -> None:
        world = await evaluated(scoring)
        first = await sample(scoring, world, UPSTAGE, "expert-1")
        again = await sample(scoring, world, UPSTAGE, "expert-1")
        other_evaluator = await sample(scoring, world, UPSTAGE, "expert-2")
        other_model = await sample(scoring, world, LG, "expert-1")
        items = first["items"]
        assert len(items) == ScoringSettings.model_fields["panel_sample_items"].default == 5
        assert [i["position"] for i in items] == [1, 2, 3, 4, 5]
        assert first == again == other_evaluator  # fixed: nothing depends on who reads, or when
        # Like with like: the same prompts in the same places for every model, each with its own answers.
        assert [(i["suite_title"], i["prompt"]) for i in other_model["items"]] == [
            (i["suite_title"], i["prompt"]) for i in items
        ]
        assert {i["suite_title"] for i in items} == {  # both suites represented
            "[DEMO] 한국어 일반 상식 (객관식)",
            "[DEMO] English word arithmetic (numeric)",
        }
        assert all(i["prompt"] for i in items)
        upstage = await stored_responses(scoring, world, world.teams[UPSTAGE])
        lg = await stored_responses(scoring, world, world.teams[LG])
        assert {i["response"] for i in items} <= upstage
        assert {i["response"] for i in other_model["items"]} <= lg
        assert [i["response"] for i in items] != [i["response"] for i in other_model["items"]]

    async def test_the_answer_names_no_team_and_carries_no_grade(self, scoring: Scoring) -> None:
        world = await evaluated(scoring)
        for team in (UPSTAGE, LG):
            answer = await sample(scoring, world, team, "expert-1")
            assert_blind(world, answer)
            assert set(answer) == {"stage_id", "items"}
            assert set(answer["items"][0]) == {
                "position",
                "suite_title",
                "language",
                "prompt",
                "prompt_truncated",
                "response",
                "response_truncated",
            }

    async def test_a_long_answer_is_cut_to_the_limit_and_says_so(self, scoring: Scoring) -> None:
        world = await evaluated(scoring, long_answers=True)
        items = (await sample(scoring, world, LG, "expert-1"))["items"]
        limit = ScoringSettings.model_fields["panel_sample_chars"].default
        assert all(i["response"] == LONG[:limit] and i["response_truncated"] for i in items)
        assert not any(
            i["response_truncated"] for i in (await sample(scoring, world, UPSTAGE, "expert-1"))["items"]
        )

    async def test_an_evaluator_of_the_teams_organisation_is_refused_without_the_team_named(
        self, scoring: Scoring
    ) -> None:
        world = await evaluated(scoring)
        refused = await scoring.client.get(
            sample_url(world, UPSTAGE), headers=scoring.as_evaluator("expert-0")
        )
        assert (refused.status_code, refused.json()["code"], refused.json()["conflict"]) == (
            409,
            "conflict-of-interest",
            "affiliation",
        )
        assert_blind(world, refused.json())
        assert (await sample(scoring, world, LG, "expert-0"))["items"]

    async def test_refusals_not_on_panel_wrong_role_unknown_model_no_panel(self, scoring: Scoring) -> None:
        world = await evaluated(scoring)
        stranger = await scoring.client.get(sample_url(world, LG), headers=scoring.as_evaluator("stranger"))
        assert (stranger.status_code, stranger.json()["code"]) == (403, "not-on-panel")
        for headers in (scoring.operator(), scoring.as_team(world.teams[LG])):
            wrong = await scoring.client.get(sample_url(world, LG), headers=headers)
            assert (wrong.status_code, wrong.json()["code"]) == (403, "forbidden")
        unknown = await scoring.client.get(
            sample_url(world, uuid.uuid4()), headers=scoring.as_evaluator("expert-1")
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "model-not-found")
        anonymous = await scoring.client.get(sample_url(world, LG))
        assert anonymous.status_code == 401
        no_panel = await scoring.client.get(
            f"/v1/stages/{uuid.uuid4()}/panel/teams/{world.teams[LG]}/sample",
            headers=scoring.as_evaluator("expert-1"),
        )
        assert (no_panel.status_code, no_panel.json()["code"]) == (404, "panel-not-found")


class TestDeclaringAConflict:
    async def test_a_declaration_withdraws_the_score_and_bars_the_model_for_good(
        self, scoring: Scoring
    ) -> None:
        world = await evaluated(scoring)
        lg = world.teams[LG]
        scores = f"/v1/stages/{world.stage_id}/panel/scores"
        for subject, value in (("expert-1", 90.0), ("expert-2", 50.0)):
            await body(
                await scoring.client.post(
                    scores, json=rubric(lg, value), headers=scoring.as_evaluator(subject)
                ),
                201,
            )
        declared = await body(
            await scoring.client.post(
                conflicts_url(world),
                json={"team_id": str(lg), "reason": "I advised this team last year."},
                headers=scoring.as_evaluator("expert-1"),
            ),
            201,
        )
        assert declared["withdrew_score"] is True
        assert declared["reason"] == "I advised this team last year."
        assert_blind(world, declared)
        assert {"team_id", "evaluator", "withdrawn_score_id"}.isdisjoint(declared)

        # Withdrawn: kept as given, no longer counted; the evaluator can neither score nor amend nor read it.
        summary = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel/summary", headers=scoring.operator())
        )
        assert [(s["value"], len(s["used_score_ids"])) for s in summary] == [(50.0, 1)]
        mine = await body(await scoring.client.get(scores, headers=scoring.as_evaluator("expert-1")))
        assert mine[0]["technical_originality"] == 90.0
        assert mine[0]["withdrawn_at"] is not None
        again = await scoring.client.post(
            scores, json=rubric(lg, 70), headers=scoring.as_evaluator("expert-1")
        )
        assert (again.status_code, again.json()["code"], again.json()["conflict"]) == (
            409,
            "conflict-of-interest",
            "declared",
        )
        amend = await scoring.client.post(
            f"{scores}/{mine[0]['id']}/amendments",
            json={
                "technical_originality": 1,
                "technological_capability": 1,
                "readiness": 1,
                "reason": "undo",
            },
            headers=scoring.as_evaluator("expert-1"),
        )
        assert (amend.status_code, amend.json()["code"]) == (409, "conflict-of-interest")
        read = await scoring.client.get(sample_url(world, LG), headers=scoring.as_evaluator("expert-1"))
        assert (read.status_code, read.json()["code"]) == (409, "conflict-of-interest")
        assert (await sample(scoring, world, UPSTAGE, "expert-1"))["items"]  # the other model still

        # The evaluator's own view names no team; the operators' views name it.
        own = await body(
            await scoring.client.get(conflicts_url(world), headers=scoring.as_evaluator("expert-1"))
        )
        assert [c["reason"] for c in own] == ["I advised this team last year."]
        assert_blind(world, own)
        entry = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/panel", headers=scoring.as_evaluator("expert-1")
            )
        )
        assert_blind(world, entry)
        listed = await body(await scoring.client.get(conflicts_url(world), headers=scoring.operator()))
        assert [(c["team_id"], c["evaluator"], c["withdrawn_score_id"]) for c in listed] == [
            (str(lg), "expert-1", mine[0]["id"])
        ]
        panel = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/panel", headers=scoring.operator())
        )
        conflicts = {e["subject"]: e["declared_conflicts"] for e in panel["evaluators"]}
        assert conflicts["expert-1"] == [str(lg)]

        # Setting the panel again (an operator's PUT) does not undo it; the trail records who and why.
        await body(
            await scoring.client.put(
                f"/v1/stages/{world.stage_id}/panel", json=panel_body(), headers=scoring.operator()
            )
        )
        still = await scoring.client.post(
            scores, json=rubric(lg, 70), headers=scoring.as_evaluator("expert-1")
        )
        assert still.json()["code"] == "conflict-of-interest"
        async with scoring.runtime.sessions() as session:
            entry_row = await session.scalar(
                select(ScoringAuditEntry).where(
                    ScoringAuditEntry.action == "panel.conflict-declared",
                    ScoringAuditEntry.entity_id == str(world.stage_id),
                )
            )
        assert entry_row is not None
        assert entry_row.actor_subject == "expert-1"
        assert entry_row.reason == "I advised this team last year."
        assert entry_row.details["withdrawn_score_id"] == mine[0]["id"]

    async def test_a_declaration_without_a_score_bars_the_model(self, scoring: Scoring) -> None:
        world = await evaluated(scoring)
        declared = await body(
            await scoring.client.post(
                conflicts_url(world),
                json={"team_id": str(world.teams[UPSTAGE]), "reason": "My spouse works there."},
                headers=scoring.as_evaluator("expert-2"),
            ),
            201,
        )
        assert declared["withdrew_score"] is False
        refused = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/panel/scores",
            json=rubric(world.teams[UPSTAGE], 80),
            headers=scoring.as_evaluator("expert-2"),
        )
        assert refused.json()["code"] == "conflict-of-interest"

    async def test_refusals(self, scoring: Scoring) -> None:
        world = await evaluated(scoring)
        lg = str(world.teams[LG])

        async def declare(headers: dict[str, str], **fields: Any) -> Any:
            return await scoring.client.post(
                conflicts_url(world), json={"team_id": lg, "reason": "a reason"} | fields, headers=headers
            )

        first = await declare(scoring.as_evaluator("expert-1"))
        assert first.status_code == 201
        duplicate = await declare(scoring.as_evaluator("expert-1"))
        assert (duplicate.status_code, duplicate.json()["code"]) == (409, "conflict-already-declared")
        stranger = await declare(scoring.as_evaluator("stranger"))
        assert (stranger.status_code, stranger.json()["code"]) == (403, "not-on-panel")
        for headers in (scoring.operator(), scoring.as_team(world.teams[LG])):
            wrong = await declare(headers)
            assert (wrong.status_code, wrong.json()["code"]) == (403, "forbidden")
        unknown = await declare(scoring.as_evaluator("expert-2"), team_id=str(uuid.uuid4()))
        assert (unknown.status_code, unknown.json()["code"]) == (404, "model-not-found")
        no_reason = await declare(scoring.as_evaluator("expert-2"), reason="")
        assert no_reason.status_code == 422
        for refusal in (duplicate, stranger, unknown):
            assert_blind(world, refusal.json())

    async def test_after_the_deadline_no_conflict_can_be_declared(self, scoring: Scoring) -> None:
        world = await evaluated(scoring, deadline=datetime.now(UTC) - timedelta(minutes=1))
        closed = await scoring.client.post(
            conflicts_url(world),
            json={"team_id": str(world.teams[LG]), "reason": "late"},
            headers=scoring.as_evaluator("expert-1"),
        )
        assert (closed.status_code, closed.json()["code"]) == (409, "panel-closed")
        assert await body(await scoring.client.get(conflicts_url(world), headers=scoring.operator())) == []


class TestWithdrawalAndTheCutoff:
    async def test_a_declaration_after_the_cutoff_withdraws_the_score_only_for_a_re_evaluation(
        self, scoring: Scoring
    ) -> None:
        world = await evaluated(scoring)
        lg = world.teams[LG]
        scores = f"/v1/stages/{world.stage_id}/panel/scores"
        for subject, value in (("expert-1", 90.0), ("expert-2", 50.0)):
            await body(
                await scoring.client.post(
                    scores, json=rubric(lg, value), headers=scoring.as_evaluator(subject)
                ),
                201,
            )
        async with scoring.ctx() as ctx:  # the evaluation closes now: both scores are in window
            criteria = await ctx.session.get(StageCriteria, world.stage_id)
            assert criteria is not None
            criteria.evidence_cutoff = datetime.now(UTC)
        await body(
            await scoring.client.post(
                conflicts_url(world),
                json={"team_id": str(lg), "reason": "found out late"},
                headers=scoring.as_evaluator("expert-1"),
            ),
            201,
        )
        async with scoring.ctx() as ctx:
            cut = await criteria_service.cutoff(ctx.session, world.stage_id)
            as_published = await experts.panel_evidence(
                ctx.session, world.stage_id, cut, late_amendments=False
            )
            re_evaluated = await experts.panel_evidence(
                ctx.session, world.stage_id, cut, late_amendments=True
            )
        assert as_published[lg].score.value == pytest.approx(70.0)  # both scores, as the cut-off had them
        assert re_evaluated[lg].score.value == pytest.approx(50.0)  # the withdrawal applied
