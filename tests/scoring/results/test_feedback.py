"""Written feedback to a team on a result version: operators write it, the team reads its own once the
version is published and never before, another team never; each writing a revision, audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from scoring.harness import Scoring, StageWorld, body, five_team_stage

pytestmark = pytest.mark.broker

FEEDBACK = "Your arithmetic suite answers were well formed; the Korean reading suite needs work."


async def proposed(scoring: Scoring) -> StageWorld:
    world = await five_team_stage(scoring)
    await body(
        await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
    )
    return world


def feedback_path(world: StageWorld, team: uuid.UUID) -> str:
    return f"/v1/stages/{world.stage_id}/teams/{team}/feedback"


async def write(
    scoring: Scoring, world: StageWorld, team: uuid.UUID, text: str, status: int = 201
) -> dict[str, Any]:
    response = await scoring.client.post(
        f"/v1/stages/{world.stage_id}/results/1/feedback",
        json={"team_id": str(team), "text": text},
        headers=scoring.operator(),
    )
    return dict(await body(response, status))


class TestFeedback:
    async def test_the_team_reads_its_feedback_only_once_the_version_is_published(
        self, scoring: Scoring
    ) -> None:
        world = await proposed(scoring)
        upstage = world.teams["Upstage"]
        written = await write(scoring, world, upstage, FEEDBACK)
        assert (written["version"], written["revision"], written["published"]) == (1, 1, False)

        before = await scoring.client.get(feedback_path(world, upstage), headers=scoring.as_team(upstage))
        assert before.status_code == 404
        assert before.json()["code"] == "result-not-published"
        # Operators see it while the version is still a proposal.
        seen = await body(await scoring.client.get(feedback_path(world, upstage), headers=scoring.operator()))
        assert [f["text"] for f in seen] == [FEEDBACK]

        await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/1/approval", headers=scoring.operator()
            )
        )
        after = await body(
            await scoring.client.get(feedback_path(world, upstage), headers=scoring.as_team(upstage))
        )
        assert [(f["version"], f["text"], f["published"]) for f in after] == [(1, FEEDBACK, True)]

    async def test_another_team_and_the_public_are_refused_and_a_team_without_feedback_gets_none(
        self, scoring: Scoring
    ) -> None:
        world = await proposed(scoring)
        upstage, skt = world.teams["Upstage"], world.teams["SK Telecom"]
        await write(scoring, world, upstage, FEEDBACK)
        await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/1/approval", headers=scoring.operator()
            )
        )
        intruder = await scoring.client.get(feedback_path(world, upstage), headers=scoring.as_team(skt))
        assert intruder.status_code == 403
        assert FEEDBACK not in intruder.text
        anonymous = await scoring.client.get(feedback_path(world, upstage))
        assert anonymous.status_code == 401
        own = await body(await scoring.client.get(feedback_path(world, skt), headers=scoring.as_team(skt)))
        assert own == []

    async def test_only_operators_write_and_only_to_a_team_of_the_version(self, scoring: Scoring) -> None:
        world = await proposed(scoring)
        upstage = world.teams["Upstage"]
        path = f"/v1/stages/{world.stage_id}/results/1/feedback"
        by_team = await scoring.client.post(
            path, json={"team_id": str(upstage), "text": "Well done, us."}, headers=scoring.as_team(upstage)
        )
        assert by_team.status_code == 403
        stranger = await scoring.client.post(
            path, json={"team_id": str(uuid.uuid4()), "text": FEEDBACK}, headers=scoring.operator()
        )
        assert (stranger.status_code, stranger.json()["code"]) == (404, "team-not-in-result")
        no_version = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/9/feedback",
            json={"team_id": str(upstage), "text": FEEDBACK},
            headers=scoring.operator(),
        )
        assert (no_version.status_code, no_version.json()["code"]) == (404, "result-not-found")
        empty = await scoring.client.post(
            path, json={"team_id": str(upstage), "text": ""}, headers=scoring.operator()
        )
        assert empty.status_code == 422

    async def test_rewriting_adds_a_revision_the_same_text_adds_nothing_and_each_is_audited(
        self, scoring: Scoring
    ) -> None:
        world = await proposed(scoring)
        upstage = world.teams["Upstage"]
        first = await write(scoring, world, upstage, FEEDBACK)
        again = await write(scoring, world, upstage, FEEDBACK, status=200)
        assert again["revision"] == first["revision"] == 1
        second = await write(scoring, world, upstage, FEEDBACK + " Thank you.")
        assert second["revision"] == 2
        seen = await body(await scoring.client.get(feedback_path(world, upstage), headers=scoring.operator()))
        assert [(f["revision"], f["text"]) for f in seen] == [(2, FEEDBACK + " Thank you.")]
        entries: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            audit = await body(
                await scoring.client.get("/v1/audit", params=params, headers=scoring.operator())
            )
            entries += audit["items"]
            cursor = audit["next_cursor"]
            if not cursor:
                break
        mine = [
            e
            for e in entries
            if e["action"] == "result.feedback-written"
            and e["details"]["team_id"] == str(upstage)
            and e["details"]["stage_id"] == str(world.stage_id)
        ]
        assert [e["details"]["revision"] for e in mine] == [1, 2]
