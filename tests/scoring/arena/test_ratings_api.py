"""Ratings through the service on SQLite and PostgreSQL: standings that state their prior and hold
every record, and a proposal refused while a model has fewer counted votes than the criteria's
minimum (issue 18, item 1)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, event

from fmc_scoring.arena import service as arena_service
from fmc_scoring.arena.bradley_terry import PRIOR_SD
from fmc_scoring.arena.models import Vote
from fmc_scoring.criteria.models import StageCriteria
from scoring.harness import Scoring, StageWorld, add_votes, body, criteria_body, five_team_stage

pytestmark = pytest.mark.broker


async def set_min_votes(scoring: Scoring, world: StageWorld, minimum: int | None, user: float = 0.2) -> None:
    """The five-team stage's criteria, restated with a minimum of votes (None: the default) while the
    evaluation has not frozen them (the test writes the row as the criteria service would)."""
    async with scoring.ctx() as ctx:
        row = await ctx.session.get(StageCriteria, world.stage_id)
        assert row is not None
        row.arena_min_votes = 30 if minimum is None else minimum
        row.weight_user = user


async def propose(scoring: Scoring, world: StageWorld) -> Any:
    return await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator())


class TestMinimumVotes:
    async def test_the_criteria_state_a_default_minimum_of_thirty(self, scoring: Scoring) -> None:
        stage = uuid.uuid4()
        suites = await body(await scoring.client.post("/v1/suites/demo", headers=scoring.operator()))
        criteria = criteria_body([uuid.UUID(suites[0]["id"])])
        del criteria["arena_min_votes"]
        url = f"/v1/stages/{stage}/criteria"
        stated = await body(await scoring.client.put(url, json=criteria, headers=scoring.operator()))
        assert stated["arena_min_votes"] == 30
        criteria["arena_min_votes"] = -1
        refused = await scoring.client.put(url, json=criteria, headers=scoring.operator())
        assert refused.status_code == 422

    async def test_a_proposal_is_refused_while_a_model_is_short_of_votes_naming_each(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)  # 8 to 10 counted votes per team
        await set_min_votes(scoring, world, None)
        refused = await propose(scoring, world)
        problem = refused.json()
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == "arena-votes-insufficient"
        assert problem["min_votes"] == 30
        short = {uuid.UUID(m["team_id"]): m["votes"] for m in problem["models"]}
        assert short == {
            world.teams["Upstage"]: 9,
            world.teams["SK Telecom"]: 10,
            world.teams["LG AI Research"]: 8,
            world.teams["NC AI"]: 7,
            world.teams["Naver Cloud"]: 6,
        }
        versions = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator())
        )
        assert versions == []

    async def test_only_the_models_below_the_minimum_are_named_and_enough_votes_let_it_through(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        await set_min_votes(scoring, world, 8)
        refused = await propose(scoring, world)
        assert refused.status_code == 409
        named = {uuid.UUID(m["team_id"]) for m in refused.json()["models"]}
        assert named == {world.teams["NC AI"], world.teams["Naver Cloud"]}
        t = world.teams
        await add_votes(scoring, world, t["NC AI"], t["Naver Cloud"], ["a", "b"])
        accepted = await body(await propose(scoring, world), 201)
        assert accepted["version"] == 1

    async def test_without_a_user_weight_the_arena_needs_no_minimum(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        await set_min_votes(scoring, world, 1000, user=0.0)
        await body(await propose(scoring, world), 201)


class TestStandingsThroughTheService:
    async def test_a_one_sided_record_has_finite_ratings_inside_their_intervals_and_the_prior_is_stated(
        self, scoring: Scoring
    ) -> None:
        world = await five_team_stage(scoring)
        t = world.teams
        await add_votes(scoring, world, t["Upstage"], t["NC AI"], ["a"] * 30)
        standings = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/arena/standings", headers=scoring.operator()
            )
        )
        assert standings["converged"] is True
        assert standings["prior_sd"] == PRIOR_SD
        assert standings["groups"] == 1
        assert standings["votes"] == 20 + 30
        teams = {team["team_name"]: team for team in standings["teams"]}
        assert all(team["lower"] <= team["rating"] <= team["upper"] for team in teams.values())
        assert teams["Upstage"]["rating"] - teams["NC AI"]["rating"] < 1500
        assert teams["Upstage"]["votes"] == 9 + 30
        assert 0.0 < teams["Upstage"]["win_rate"] < 1.0

    async def test_groups_that_never_met_are_rated_and_counted(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        async with scoring.ctx() as ctx:
            found = await arena_service.standings_of(ctx.session, world.stage_id, rounds=50)
        assert found.groups == 1
        other = await five_team_stage(scoring)
        t = other.teams
        async with scoring.ctx() as ctx:
            # Only Upstage with SK Telecom and LG with NC AI meet (the stage's other votes removed).
            await ctx.session.execute(delete(Vote).where(Vote.stage_id == other.stage_id))
        await add_votes(scoring, other, t["Upstage"], t["SK Telecom"], ["a", "a", "a"])
        await add_votes(scoring, other, t["LG AI Research"], t["NC AI"], ["b", "b"])
        async with scoring.ctx() as ctx:
            split = await arena_service.standings_of(ctx.session, other.stage_id, rounds=50)
        assert split.converged
        assert split.groups == 2
        assert split.teams[t["Upstage"]].rating + split.teams[t["SK Telecom"]].rating == pytest.approx(2000.0)

    async def test_the_standings_read_no_prompt_and_no_answer(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(str(args[2]))  # (connection, cursor, statement, ...)

        engine = scoring.runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            async with scoring.ctx() as ctx:
                found = await arena_service.standings_of(ctx.session, world.stage_id, rounds=20)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert found.votes == 20
        reads = [s for s in statements if "arena_votes" in s]
        assert reads
        assert not [s for s in reads if any(c in s for c in ("prompt", "a_text", "b_text"))]
