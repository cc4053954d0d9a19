"""The expert-evaluation pages in-process (no browser): the web tier in front of a real registry and a
real scoring service (their real lifespans, a real broker, SQLite and PostgreSQL) and the dev OpenID
Connect provider, all behind one routing transport.

The stage is put in place through the services' APIs and events (teams registered, submissions
frozen, the evaluation started: scoring plans the runs from the registry's event); the runs are then
graded from set responses (no Triton here), as the scoring tests' harness does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fmc_common.db import transaction
from fmc_common.settings import AuthSettings
from fmc_common.web.context import context_for, service_actor
from fmc_scoring.grading import service as grading
from fmc_scoring.planning import repository as planning
from fmc_scoring.settings import ScoringSettings
from fmc_scoring.suites import service as suites
from fmc_web.panel import blind_labels
from registry.factories import programme, team
from support.eventually import eventually
from support.web import WebWorld, csrf_of, sign_in, web_world

pytestmark = pytest.mark.broker

EN = {"Accept-Language": "en"}
HOSTILE = '<script>alert("x")</script>'  # a model's answer is untrusted text


@dataclass
class PanelWorld(WebWorld):
    stage_id: uuid.UUID = field(default_factory=uuid.uuid4)
    # team id -> (name, lead organisation)
    teams: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)

    def answer(self, team_id: uuid.UUID, item_id: str) -> str:
        index = sorted(self.teams, key=str).index(team_id)
        return f"Answer {index} to {item_id} {HOSTILE}"

    async def put_panel(self, deadline: datetime) -> None:
        lead = self.teams[sorted(self.teams, key=str)[0]][1]
        evaluators = [
            {"subject": "expert-a", "name": "Dr. A", "affiliations": ["KAIST"]},
            {"subject": "expert-b", "name": "Dr. B", "affiliations": [lead]},
            {"subject": "expert-c", "name": "Dr. C", "affiliations": ["POSTECH"]},
        ]
        response = await self.scoring.put(
            f"/v1/stages/{self.stage_id}/panel",
            json={"deadline": deadline.isoformat(), "evaluators": evaluators},
            headers=self.operator(),
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[PanelWorld]:
    async with web_world(
        PanelWorld, str(request.param), broker, auth_settings, tmp_path_factory, "web-panel"
    ) as found:
        await _evaluated_stage(found)
        await found.put_panel(datetime.now(UTC) + timedelta(days=2))
        yield found


async def _evaluated_stage(world: PanelWorld) -> None:
    """Three teams, each with a frozen submission, in a stage whose evaluation started; every run
    graded from the team's own answers."""
    registry = world.registry
    made = await programme(registry, stages=(1,))
    world.stage_id = made.stage_ids[1]
    for _ in range(3):
        team_id = await team(registry, made)
        found = await registry.client.get(f"/v1/teams/{team_id}", headers=registry.operator())
        world.teams[team_id] = (found.json()["name"], found.json()["lead_organisation"])
    installed = await world.scoring.post("/v1/suites/demo", headers=world.operator())
    keys = {s["key"]: s["id"] for s in installed.json()}
    criteria = {
        "suites": [
            {"suite_id": keys[k], "weight": 1.0} for k in ("demo-ko-general-mcq", "demo-en-arithmetic")
        ],
        "part_weights": {"benchmark": 0.5, "expert": 0.5, "user": 0.0},
        "advancing": 1,
        "arena_min_votes": 0,
    }
    await world.evaluating(world.stage_id, world.teams, criteria)

    app = world.scoring_app

    async def planned() -> list[Any] | None:
        async with app.state.runtime.sessions() as session:
            runs = await planning.runs_of_stage(session, world.stage_id)
            return runs if len(runs) == 2 * len(world.teams) else None

    runs = await eventually(planned, timeout=60, interval=0.2, what="scoring planning the stage")
    async with transaction(app.state.runtime.sessions) as session:
        ctx = context_for(app.state.runtime, session, service_actor("test"), ScoringSettings)
        for run in runs:
            content = await suites.load_content(session, await suites.get_suite(session, run.suite_id))
            answers = [
                grading.Response(i.item_id, world.answer(run.team_id, i.item_id)) for i in content.items
            ]
            await grading.grade_run(ctx, run, answers, "0" * 64, rounds=200)


def models_of(page: str) -> dict[int, str]:
    """Each model section of the page, by its number."""
    found = {}
    for match in re.finditer(r'<section class="model"[^>]*id="model-(\d+)"(.*?)\n</section>', page, re.S):
        found[int(match.group(1))] = match.group(0)
    return found


def assert_blind(world: PanelWorld, page: str) -> None:
    for team_id, (name, lead) in world.teams.items():
        assert str(team_id) not in page
        assert name not in page
        assert lead not in page


class TestSampledResponses:
    async def test_an_evaluator_reads_each_blind_models_own_answers_escaped(self, world: PanelWorld) -> None:
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "expert-a", "evaluator")
            page = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            assert page.status_code == 200, page.text
            text = page.text
            assert_blind(world, text)
            assert "0 of 3 models scored" in text
            assert HOSTILE not in text  # escaped, never markup
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text  # shown as the text it is
            labels = blind_labels("expert-a", world.stage_id, list(world.teams))
            sections = models_of(text)
            assert sorted(sections) == [1, 2, 3]
            prompts = []
            for number, team_id in labels.items():
                section = sections[number]
                answers = re.findall(r"Answer (\d) to ", section)
                index = sorted(world.teams, key=str).index(team_id)
                assert set(answers) == {str(index)}, (number, answers)  # that model's own answers
                assert section.count('class="sampled"') == 5
                prompts.append(re.findall(r'<div class="answer prompt"[^>]*>(.*?)</div>', section, re.S))
            assert prompts[0] == prompts[1] == prompts[2]  # the same items for every model
            again = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            assert models_of(again.text) == sections  # a re-read shows the same

    async def test_the_model_of_the_evaluators_organisation_is_not_theirs_to_score(
        self, world: PanelWorld
    ) -> None:
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "expert-b", "evaluator")
            page = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            assert page.status_code == 200, page.text
            assert_blind(world, page.text)
            own = sorted(world.teams, key=str)[0]
            number = next(
                n for n, t in blind_labels("expert-b", world.stage_id, list(world.teams)).items() if t == own
            )
            section = models_of(page.text)[number]
            assert 'data-conflict="affiliation"' in section
            assert "Answer 0 to" not in section
            assert 'class="sampled"' not in section
            assert "0 of 2 models scored" in page.text

    async def test_someone_not_on_the_panel_or_not_an_evaluator_is_refused_with_the_code(
        self, world: PanelWorld
    ) -> None:
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "stranger", "evaluator")
            refused = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            assert refused.status_code == 403
            assert 'data-code="not-on-panel"' in refused.text
            assert "Answer " not in refused.text
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "office", "operator")
            refused = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            assert refused.status_code == 403
            assert 'data-code="forbidden"' in refused.text


class TestDeclaringAConflict:
    async def test_a_declaration_from_the_page_withdraws_the_score_and_changes_progress(
        self, world: PanelWorld
    ) -> None:
        labels = blind_labels("expert-c", world.stage_id, list(world.teams))
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "expert-c", "evaluator")
            page = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            csrf = csrf_of(page.text)
            scored = await web.post(
                f"/panel/stages/{world.stage_id}/scores",
                data={
                    "csrf": csrf,
                    "model": "2",
                    "technical_originality": "70",
                    "technological_capability": "70",
                    "readiness": "70",
                    "comment": "good",
                },
            )
            assert scored.status_code == 303
            assert (
                "1 of 3 models scored" in (await web.get(f"/panel/stages/{world.stage_id}", headers=EN)).text
            )

            declared = await web.post(
                f"/panel/stages/{world.stage_id}/conflicts",
                data={"csrf": csrf, "model": "2", "reason": "I reviewed this team's grant proposal."},
            )
            assert declared.status_code == 303
            assert declared.headers["location"] == f"/panel/stages/{world.stage_id}?declared=2"
            after = await web.get(declared.headers["location"], headers=EN)
            assert "Conflict of interest declared for model 2." in after.text
            section = models_of(after.text)[2]
            assert 'data-conflict="declared"' in section
            assert "Your earlier score of this model was withdrawn" in section
            assert "0 of 2 models scored" in after.text  # not "to score", and not counted as scored
            assert_blind(world, after.text)

            listed = await world.scoring.get(
                f"/v1/stages/{world.stage_id}/panel/conflicts", headers=world.operator()
            )
            assert [(c["team_id"], c["evaluator"]) for c in listed.json()] == [(str(labels[2]), "expert-c")]

            again = await web.post(
                f"/panel/stages/{world.stage_id}/conflicts",
                data={"csrf": csrf, "model": "2", "reason": "again"},
                headers=EN,
            )
            assert again.status_code == 409
            assert 'data-code="conflict-already-declared"' in again.text
            assert "A conflict of interest with this model is already declared." in again.text
            unknown = await web.post(
                f"/panel/stages/{world.stage_id}/conflicts",
                data={"csrf": csrf, "model": "99", "reason": "x"},
                headers=EN,
            )
            assert unknown.status_code == 404
            forged = await web.post(
                f"/panel/stages/{world.stage_id}/conflicts", data={"model": "1", "reason": "x"}, headers=EN
            )
            assert forged.status_code == 403
            assert 'data-code="csrf-failed"' in forged.text
            korean = await web.get(f"/panel/stages/{world.stage_id}", headers={"Accept-Language": "ko"})
            assert "이해 충돌이 신고되어 평가하지 않습니다" in korean.text

    async def test_once_the_panel_closed_no_declaration_form_and_scoring_refuses(
        self, world: PanelWorld
    ) -> None:
        """Last: it closes the module's panel."""
        await world.put_panel(datetime.now(UTC) - timedelta(minutes=1))
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "expert-a", "evaluator")
            page = await web.get(f"/panel/stages/{world.stage_id}", headers=EN)
            assert "The panel has closed." in page.text
            assert "/conflicts" not in page.text
            refused = await web.post(
                f"/panel/stages/{world.stage_id}/conflicts",
                data={"csrf": csrf_of(page.text), "model": "1", "reason": "late"},
                headers=EN,
            )
            assert refused.status_code == 409
            assert 'data-code="panel-closed"' in refused.text
