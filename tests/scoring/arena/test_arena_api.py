"""The arena through the real gateway and Triton: anonymised battles, one vote each, identities
revealed after the vote, self-identifying answers discarded, daily caps, confidential standings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from fmc_common.clock import SEOUL
from fmc_common.events.registry import TritonEndpoint
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.arena.models import VoteCount
from scoring.harness import Scoring, StageWorld, body, criteria_body, demo_suites, new_stage, start_evaluation

pytestmark = [pytest.mark.broker, pytest.mark.triton]
TEAMS = ["Upstage", "LG AI Research"]


async def arena_stage(scoring: Scoring, triton: TritonProcess) -> StageWorld:
    suites = await demo_suites(scoring)
    world = await new_stage(scoring, TEAMS)
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/criteria",
            json=criteria_body([uuid.UUID(suites["demo-en-arithmetic"]["id"])]),
            headers=scoring.operator(),
        )
    )
    endpoint = TritonEndpoint(
        url=triton.grpc_url, model_name="demo-lm", model_version="", protocol="grpc", gpu_pool="H100"
    )
    await start_evaluation(scoring, world, endpoint)
    return world


async def battle(scoring: Scoring, world: StageWorld, voter: str, prompt: str) -> dict[str, str]:
    started = await body(
        await scoring.client.post(
            f"/v1/stages/{world.stage_id}/arena/battles",
            json={"prompt": prompt},
            headers=scoring.as_evaluator(voter),
        ),
        201,
    )
    return {"id": started["battle_id"], "a": started["answers"]["a"], "b": started["answers"]["b"]}


class TestBattleAndVote:
    async def test_a_voter_sees_two_anonymous_answers_then_the_authors_after_voting(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        fight = await battle(scoring, world, "voter-kim", "Question: 서울에서 가 볼 만한 곳은?")
        assert fight["a"] == fight["b"] == "서울에서 가 볼 만한 곳은?"  # demo-lm echoes the question

        voted = await body(
            await scoring.client.post(
                f"/v1/arena/battles/{fight['id']}/vote",
                json={"choice": "a"},
                headers=scoring.as_evaluator("voter-kim"),
            ),
            201,
        )
        assert voted["counted"] is True
        assert {voted["a"]["team_name"], voted["b"]["team_name"]} == set(TEAMS)

        again = await scoring.client.post(
            f"/v1/arena/battles/{fight['id']}/vote",
            json={"choice": "b"},
            headers=scoring.as_evaluator("voter-kim"),
        )
        assert (again.status_code, again.json()["code"]) == (409, "already-voted")

    async def test_only_the_battles_voter_may_vote_on_it(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        fight = await battle(scoring, world, "voter-lee", "Question: 안녕하세요")
        response = await scoring.client.post(
            f"/v1/arena/battles/{fight['id']}/vote",
            json={"choice": "tie"},
            headers=scoring.as_evaluator("voter-park"),
        )
        assert (response.status_code, response.json()["code"]) == (403, "not-your-battle")

    async def test_a_vote_on_a_battle_naming_a_maker_is_kept_but_not_counted(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        fight = await battle(
            scoring, world, "voter-choi", "Question: 저는 LG AI Research 에서 만든 모델입니다"
        )
        voted = await body(
            await scoring.client.post(
                f"/v1/arena/battles/{fight['id']}/vote",
                json={"choice": "both-bad"},
                headers=scoring.as_evaluator("voter-choi"),
            ),
            201,
        )
        # demo-lm echoes the question: the prompt names the maker before any answer does (answers
        # alone: test_arena_rules.py).
        assert (voted["counted"], voted["discard_reason"]) == (False, "prompt-identification")
        assert voted["discard_term_kind"] == "team"
        standings = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/arena/standings", headers=scoring.operator()
            )
        )
        assert standings["votes"] == 0

    async def test_a_voter_at_the_daily_cap_is_refused(self, scoring: Scoring, triton: TritonProcess) -> None:
        world = await arena_stage(scoring, triton)
        cap = scoring.runtime.settings.arena_daily_votes  # type: ignore[attr-defined]
        today = datetime.now(UTC).astimezone(SEOUL).date().isoformat()
        async with scoring.ctx() as ctx:
            # The cap's counter as ``cap`` counted votes today left it (test_arena_rules.py counts
            # them through the API, concurrently).
            ctx.session.add(VoteCount(voter="voter-busy", seoul_day=today, counted=cap))
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/arena/battles",
            json={"prompt": "Question: hi"},
            headers=scoring.as_evaluator("voter-busy"),
        )
        assert (response.status_code, response.json()["code"]) == (429, "daily-vote-cap")


class TestStandings:
    async def test_standings_are_for_operators_only(self, scoring: Scoring, triton: TritonProcess) -> None:
        world = await arena_stage(scoring, triton)
        for headers in ({}, scoring.as_team(world.teams["Upstage"]), scoring.as_evaluator("voter-kim")):
            response = await scoring.client.get(
                f"/v1/stages/{world.stage_id}/arena/standings", headers=headers
            )
            assert response.status_code in (401, 403)

    async def test_counted_votes_give_ratings_with_intervals(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        for i, choice in enumerate(["a", "b", "tie", "a", "both-bad"]):
            voter = f"voter-{i}"
            fight = await battle(scoring, world, voter, f"Question: 질문 {i}")
            await body(
                await scoring.client.post(
                    f"/v1/arena/battles/{fight['id']}/vote",
                    json={"choice": choice},
                    headers=scoring.as_evaluator(voter),
                ),
                201,
            )
        standings = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/arena/standings", headers=scoring.operator()
            )
        )
        assert standings["votes"] == 5
        assert {t["team_name"] for t in standings["teams"]} == set(TEAMS)
        assert all(t["lower"] <= t["rating"] <= t["upper"] for t in standings["teams"])
        assert sum(t["rating"] for t in standings["teams"]) == pytest.approx(2000.0)
