"""Written feedback from the decision preview, in-process (no browser): the web tier in front of a real
registry, scoring and grievance (their real lifespans, a real broker, SQLite and PostgreSQL) and the
dev OpenID Connect provider, all behind one routing transport.

The stage is put in place through the services' APIs and events (teams registered, submissions
frozen, the evaluation started: scoring plans the runs from the registry's event), then an operator
proposes a result through scoring's API; the feedback is written through the console's form only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest

from fmc_common.settings import AuthSettings
from fmc_scoring.planning import repository as planning
from registry.factories import programme, team
from support.eventually import eventually
from support.web import WebWorld, csrf_of, sign_in, web_world

pytestmark = pytest.mark.broker

EN = {"Accept-Language": "en"}
KO = {"Accept-Language": "ko"}
FIRST = "Your arithmetic answers were well formed.\r\nThe Korean reading suite needs work."
SECOND = 'Revised: see item 7 <script>alert("x")</script>'


@dataclass
class ConsoleWorld(WebWorld):
    stage_id: uuid.UUID = field(default_factory=uuid.uuid4)
    teams: list[uuid.UUID] = field(default_factory=list)
    version: int = 0

    @property
    def preview(self) -> str:
        return f"/console/stages/{self.stage_id}/results/{self.version}"

    @property
    def form(self) -> str:
        return f"{self.preview}/feedback"

    async def feedback(self, team_id: uuid.UUID) -> list[dict[str, Any]]:
        """What scoring holds for the team (operators see every version's)."""
        found = await self.scoring.get(
            f"/v1/stages/{self.stage_id}/teams/{team_id}/feedback", headers=self.operator()
        )
        assert found.status_code == 200, found.text
        return list(found.json())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ConsoleWorld]:
    async with web_world(
        ConsoleWorld,
        str(request.param),
        broker,
        auth_settings,
        tmp_path_factory,
        "web-feedback",
        grievance=True,
    ) as found:
        await _proposed(found)
        yield found


async def _proposed(world: ConsoleWorld) -> None:
    """Two teams with frozen submissions in a stage whose evaluation started, and a proposed result."""
    registry = world.registry
    made = await programme(registry, stages=(1,))
    world.stage_id = made.stage_ids[1]
    world.teams = [await team(registry, made) for _ in range(2)]
    installed = await world.scoring.post("/v1/suites/demo", headers=world.operator())
    suite = next(s["id"] for s in installed.json() if s["key"] == "demo-en-arithmetic")
    criteria = {
        "suites": [{"suite_id": suite, "weight": 1.0}],
        "part_weights": {"benchmark": 1.0, "expert": 0.0, "user": 0.0},
        "advancing": 1,
        "arena_min_votes": 0,
    }
    await world.evaluating(world.stage_id, world.teams, criteria)

    async def planned() -> bool | None:
        async with world.scoring_app.state.runtime.sessions() as session:
            runs = await planning.runs_of_stage(session, world.stage_id)
            return True if len(runs) == len(world.teams) else None

    await eventually(planned, timeout=60, interval=0.2, what="scoring planning the stage")
    proposed = await world.scoring.post(f"/v1/stages/{world.stage_id}/results", headers=world.operator())
    assert proposed.status_code == 201, proposed.text
    world.version = proposed.json()["version"]


def section_of(page: str, team_id: uuid.UUID) -> str:
    found = re.search(rf'<section class="team-feedback" id="feedback-{team_id}".*?</section>', page, re.S)
    assert found, page
    return found.group(0)


class TestOperatorWritesFeedback:
    async def test_the_operator_writes_then_revises_and_the_same_text_again_adds_nothing(
        self, world: ConsoleWorld
    ) -> None:
        first_team, other = world.teams
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "office", "operator")
            page = await web.get(world.preview, headers=EN)
            assert page.status_code == 200, page.text
            # The feedback section is in the page's main part once; the title is text only.
            assert page.text.count('id="feedback-heading"') == 1
            assert re.search(r"<title>[^<]*</title>", page.text), page.text[:600]
            section = section_of(page.text, first_team)
            assert "Nothing written yet." in section
            assert f'<label for="feedback-text-{first_team}">' in section
            assert "The team sees it only once this version is published." in page.text
            csrf = csrf_of(page.text)

            written = await web.post(
                world.form, data={"csrf": csrf, "team_id": str(first_team), "text": FIRST}, headers=EN
            )
            assert written.status_code == 303, written.text
            anchor = f"#feedback-{first_team}"
            assert written.headers["location"] == f"{world.preview}?written={first_team}{anchor}"
            held = await world.feedback(first_team)
            # Line breaks as written (the textarea's CRLF read as LF), a first revision, unpublished.
            assert [(f["revision"], f["text"], f["published"]) for f in held] == [
                (1, FIRST.replace("\r\n", "\n"), False)
            ]
            after = await web.get(written.headers["location"], headers=EN)
            section = section_of(after.text, first_team)
            assert 'data-said="written"' in section
            assert 'data-revision="1"' in section
            assert "The Korean reading suite needs work." in section
            assert "Nothing written yet." in section_of(after.text, other)  # the other team's is its own

            again = await web.post(
                world.form, data={"csrf": csrf, "team_id": str(first_team), "text": FIRST}, headers=EN
            )
            assert again.headers["location"] == f"{world.preview}?unchanged={first_team}{anchor}"
            assert [f["revision"] for f in await world.feedback(first_team)] == [1]
            said = await web.get(again.headers["location"], headers=EN)
            assert "The text is unchanged: no new revision was added." in section_of(said.text, first_team)
            korean = await web.get(again.headers["location"], headers=KO)
            assert "내용이 바뀌지 않아 새 수정본을 만들지 않았습니다." in korean.text

            revised = await web.post(
                world.form, data={"csrf": csrf, "team_id": str(first_team), "text": SECOND}, headers=EN
            )
            assert revised.headers["location"].endswith(f"?written={first_team}{anchor}")
            assert [(f["revision"], f["text"]) for f in await world.feedback(first_team)] == [(2, SECOND)]
            shown = section_of((await web.get(world.preview, headers=EN)).text, first_team)
            assert 'data-revision="2"' in shown
            assert "<script>" not in shown  # the text is shown as text
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown

    async def test_scorings_refusal_comes_back_with_its_code_in_both_languages(
        self, world: ConsoleWorld
    ) -> None:
        stranger = uuid.uuid4()
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "office", "operator")
            csrf = csrf_of((await web.get(world.preview, headers=EN)).text)
            form = {"csrf": csrf, "team_id": str(stranger), "text": "Not one of the stage's teams."}
            refused = await web.post(world.form, data=form, headers=EN)
            assert refused.status_code == 404
            assert 'data-code="team-not-in-result"' in refused.text
            assert "This team is not in this result version." in refused.text
            korean = await web.post(world.form, data=form, headers=KO)
            assert "이 팀은 이 결과 버전에 없습니다." in korean.text
            assert "team-not-in-result" in korean.text
            no_version = await web.post(
                f"/console/stages/{world.stage_id}/results/99/feedback",
                data=form | {"team_id": str(world.teams[0])},
                headers=EN,
            )
            assert no_version.status_code == 404
            assert 'data-code="result-not-found"' in no_version.text
            empty = await web.post(world.form, data=form | {"text": ""}, headers=EN)
            assert empty.status_code == 422
            assert 'data-code="validation-failed"' in empty.text
            # 20,000 characters as written (line breaks sent as CRLF) pass the edge; one more does not.
            at_limit = "a\r\n" * 10_000
            accepted = await web.post(
                world.form, data=form | {"team_id": str(world.teams[1]), "text": at_limit}, headers=EN
            )
            assert accepted.status_code == 303, accepted.text
            too_long = await web.post(
                world.form, data=form | {"team_id": str(world.teams[1]), "text": at_limit + "a"}, headers=EN
            )
            assert too_long.status_code == 422
            assert 'data-code="validation-failed"' in too_long.text
        assert [len(f["text"]) for f in await world.feedback(world.teams[1])] == [20_000]

    @pytest.mark.parametrize(("role", "subject"), [("team", "team-lead"), ("evaluator", "expert-a")])
    async def test_a_team_or_an_evaluator_is_refused_and_nothing_is_written(
        self, world: ConsoleWorld, role: str, subject: str
    ) -> None:
        target = world.teams[1]
        before = await world.feedback(target)
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, subject, role, str(target) if role == "team" else "")
            page = await web.get(world.preview, headers=EN)
            assert page.status_code == 403
            assert 'data-code="forbidden"' in page.text
            csrf = csrf_of((await web.get("/", headers=EN)).text)
            refused = await web.post(
                world.form,
                data={"csrf": csrf, "team_id": str(target), "text": "We grade ourselves highly."},
                headers=EN,
            )
            assert refused.status_code == 403
            assert 'data-code="forbidden"' in refused.text
        assert await world.feedback(target) == before  # nothing written

    async def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(
        self, world: ConsoleWorld
    ) -> None:
        target = world.teams[1]
        before = await world.feedback(target)
        form = {"team_id": str(target), "text": "Forged from elsewhere."}
        async with AsyncExitStack() as exits:
            web, idp = await world.browser(exits)
            await sign_in(web, idp, "office", "operator")
            csrf = csrf_of((await web.get(world.preview, headers=EN)).text)
            missing = await web.post(world.form, data=form, headers=EN)
            assert missing.status_code == 403
            assert 'data-code="csrf-failed"' in missing.text
            wrong = await web.post(world.form, data=form | {"csrf": "not-the-token"}, headers=EN)
            assert wrong.status_code == 403
            elsewhere = await web.post(
                world.form, data=form | {"csrf": csrf}, headers=EN | {"Origin": "https://evil.example"}
            )
            assert elsewhere.status_code == 403
            assert 'data-code="csrf-failed"' in elsewhere.text
        assert await world.feedback(target) == before  # nothing written
