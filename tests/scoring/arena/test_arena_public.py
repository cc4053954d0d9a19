"""The arena's anonymous public mode, on SQLite and PostgreSQL: the operators' switch per stage (roles,
audit, default off), anonymous voters only through the web tier's service token and only while the
switch is on, their own daily cap, the same hygiene rules, and their votes counted apart from the
registered voters' (never in the standings the stage's evidence reads)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from fmc_common.auth import Role
from fmc_common.clock import SEOUL
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.arena.models import VoteCount
from scoring.arena.test_arena_api import arena_stage
from scoring.arena.test_arena_rules import seed_battles, vote_records
from scoring.harness import Scoring, StageWorld, body, new_stage
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]

PSEUDONYM = "0123456789abcdef0123456789abcdef"


def web(scoring: Scoring) -> dict[str, str]:
    """The web tier's service token (the only caller that may speak for anonymous voters)."""
    return bearer(scoring.auth, Role.SERVICE, subject="service:web")


def pseudonym() -> str:
    return uuid.uuid4().hex


async def switch(scoring: Scoring, stage_id: uuid.UUID, public: bool, reason: str = "public week") -> Any:
    return await body(
        await scoring.client.put(
            f"/v1/stages/{stage_id}/arena/settings",
            json={"public": public, "reason": reason},
            headers=scoring.operator(),
        )
    )


async def anonymous_vote(scoring: Scoring, battle_id: uuid.UUID, voter: str, choice: str = "a") -> Any:
    return await scoring.client.post(
        f"/v1/arena/anonymous/battles/{battle_id}/vote",
        json={"choice": choice, "voter": voter},
        headers=web(scoring),
    )


async def standings_votes(scoring: Scoring, world: StageWorld, voters: str) -> int:
    found = await body(
        await scoring.client.get(
            f"/v1/stages/{world.stage_id}/arena/standings",
            params={"voters": voters},
            headers=scoring.operator(),
        )
    )
    return int(found["votes"])


class TestSwitch:
    async def test_the_switch_is_off_until_an_operator_turns_it_on_and_every_change_is_audited(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        url = f"/v1/stages/{world.stage_id}/arena/settings"
        assert (await body(await scoring.client.get(url, headers=web(scoring))))["public"] is False

        on = await switch(scoring, world.stage_id, True, "open week for the public")
        assert (on["public"], on["updated_by"]) == (True, "operator-kim")
        assert (await body(await scoring.client.get(url, headers=web(scoring))))["public"] is True
        listed = await body(await scoring.client.get("/v1/arena/settings", headers=web(scoring)))
        assert {"stage_id": str(world.stage_id), "public": True} in [
            {"stage_id": s["stage_id"], "public": s["public"]} for s in listed
        ]
        off = await switch(scoring, world.stage_id, False, "week over")
        assert off["public"] is False

        trail = await body(
            await scoring.client.get(
                "/v1/audit", params={"entity_id": str(world.stage_id)}, headers=scoring.operator()
            )
        )
        entries = [
            (e["action"], e["reason"], e["actor_subject"], e["details"]["public"])
            for e in trail["items"]
            if e["action"] == "arena.public-mode-set"
        ]
        assert entries == [
            ("arena.public-mode-set", "open week for the public", "operator-kim", True),
            ("arena.public-mode-set", "week over", "operator-kim", False),
        ]

    async def test_only_operators_switch_it_and_only_operators_and_services_read_it(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        url = f"/v1/stages/{world.stage_id}/arena/settings"
        team = world.teams["Upstage"]
        for headers in ({}, scoring.as_team(team), scoring.as_evaluator("voter-kim"), web(scoring)):
            refused = await scoring.client.put(url, json={"public": True, "reason": "x"}, headers=headers)
            assert refused.status_code in (401, 403), refused.text
        for headers in ({}, scoring.as_team(team), scoring.as_evaluator("voter-kim")):
            assert (await scoring.client.get(url, headers=headers)).status_code in (401, 403)
            assert (await scoring.client.get("/v1/arena/settings", headers=headers)).status_code in (401, 403)
        assert (await body(await scoring.client.get(url, headers=scoring.operator())))["public"] is False

    async def test_a_switch_without_a_boolean_is_refused(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        url = f"/v1/stages/{world.stage_id}/arena/settings"
        for bad in ({}, {"public": "perhaps"}, {"public": True, "reason": ""}):
            response = await scoring.client.put(url, json=bad, headers=scoring.operator())
            assert (response.status_code, response.json()["code"]) == (422, "validation-failed"), bad


class TestAnonymousVoters:
    async def test_an_anonymous_battle_is_refused_while_the_stage_is_not_public(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        for path in ("battles", "battles/stream"):
            response = await scoring.client.post(
                f"/v1/stages/{world.stage_id}/arena/anonymous/{path}",
                json={"prompt": "hi", "voter": PSEUDONYM},
                headers=web(scoring),
            )
            assert (response.status_code, response.json()["code"]) == (403, "arena-not-public")

    async def test_only_the_web_tier_speaks_for_anonymous_voters_with_a_well_formed_pseudonym(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        await switch(scoring, world.stage_id, True)
        url = f"/v1/stages/{world.stage_id}/arena/anonymous/battles"
        body_ = {"prompt": "hi", "voter": PSEUDONYM}
        for headers in ({}, scoring.as_evaluator("voter-kim"), scoring.operator(), scoring.service()):
            response = await scoring.client.post(url, json=body_, headers=headers)
            assert response.status_code in (401, 403), response.text
        for voter in ("not-hex", "ABCDEF0123456789ABCDEF0123456789", "12ab", "203.0.113.7"):
            response = await scoring.client.post(
                url, json={"prompt": "hi", "voter": voter}, headers=web(scoring)
            )
            assert (response.status_code, response.json()["code"]) == (422, "validation-failed"), voter

    async def test_a_registered_subject_may_not_pass_for_an_anonymous_voter(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"anonymous:{PSEUDONYM}"
        battle = (await seed_battles(scoring, world, voter))[0]
        await switch(scoring, world.stage_id, True)
        response = await scoring.client.post(
            f"/v1/arena/battles/{battle}/vote", json={"choice": "a"}, headers=scoring.as_evaluator(voter)
        )
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")

    async def test_an_anonymous_vote_counts_apart_from_the_registered_voters(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        await switch(scoring, world.stage_id, True)
        anonymous = pseudonym()
        battle = (await seed_battles(scoring, world, f"anonymous:{anonymous}"))[0]
        registered = (await seed_battles(scoring, world, "voter-kim"))[0]

        voted = await body(await anonymous_vote(scoring, battle, anonymous, "b"), 201)
        assert voted["counted"] is True
        assert {voted["a"]["team_name"], voted["b"]["team_name"]} == {"Upstage", "LG AI Research"}
        await body(
            await scoring.client.post(
                f"/v1/arena/battles/{registered}/vote",
                json={"choice": "a"},
                headers=scoring.as_evaluator("voter-kim"),
            ),
            201,
        )
        records = await vote_records(scoring, world)
        assert records[str(battle)]["anonymous"] is True
        assert records[str(battle)]["voter"] == f"anonymous:{anonymous}"
        assert records[str(registered)]["anonymous"] is False
        assert await standings_votes(scoring, world, "registered") == 1
        assert await standings_votes(scoring, world, "anonymous") == 1

    async def test_an_anonymous_voter_votes_only_on_their_own_battle_and_only_once(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        await switch(scoring, world.stage_id, True)
        mine = pseudonym()
        battle = (await seed_battles(scoring, world, f"anonymous:{mine}"))[0]
        other = await anonymous_vote(scoring, battle, pseudonym())
        assert (other.status_code, other.json()["code"]) == (403, "not-your-battle")
        await body(await anonymous_vote(scoring, battle, mine), 201)
        again = await anonymous_vote(scoring, battle, mine)
        assert (again.status_code, again.json()["code"]) == (409, "already-voted")

    async def test_a_vote_after_the_switch_went_off_is_refused(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        await switch(scoring, world.stage_id, True)
        voter = pseudonym()
        battle = (await seed_battles(scoring, world, f"anonymous:{voter}"))[0]
        await switch(scoring, world.stage_id, False)
        refused = await anonymous_vote(scoring, battle, voter)
        assert (refused.status_code, refused.json()["code"]) == (403, "arena-not-public")
        assert str(battle) not in await vote_records(scoring, world)

    async def test_a_prompt_naming_a_team_is_kept_but_not_counted_for_anonymous_voters_too(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        await switch(scoring, world.stage_id, True)
        voter = pseudonym()
        battle = (
            await seed_battles(scoring, world, f"anonymous:{voter}", prompt="Is this the Upstage model?")
        )[0]
        voted = await body(await anonymous_vote(scoring, battle, voter), 201)
        assert (voted["counted"], voted["discard_reason"], voted["discard_term_kind"]) == (
            False,
            "prompt-identification",
            "team",
        )
        assert await standings_votes(scoring, world, "anonymous") == 0

    async def test_an_anonymous_voter_meets_the_anonymous_daily_cap(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        await switch(scoring, world.stage_id, True)
        cap = scoring.runtime.settings.arena_anonymous_daily_votes  # type: ignore[attr-defined]
        assert cap < scoring.runtime.settings.arena_daily_votes  # type: ignore[attr-defined]
        voter = pseudonym()
        battles = await seed_battles(scoring, world, f"anonymous:{voter}", cap + 1)
        for battle in battles[:cap]:
            assert (await body(await anonymous_vote(scoring, battle, voter), 201))["counted"] is True
        over = await anonymous_vote(scoring, battles[cap], voter)
        assert (over.status_code, over.json()["code"], over.json()["cap"]) == (429, "daily-vote-cap", cap)
        # Another anonymous person (another session's pseudonym) has a cap of their own.
        today = datetime.now(UTC).astimezone(SEOUL).date().isoformat()
        async with scoring.ctx() as ctx:
            assert await ctx.session.get(VoteCount, (f"anonymous:{voter}", today)) is not None
            assert await ctx.session.get(VoteCount, (f"anonymous:{pseudonym()}", today)) is None


class TestAnonymousBattle:
    async def test_an_anonymous_person_gets_a_battle_through_the_gateway_and_votes(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        await switch(scoring, world.stage_id, True)
        voter = pseudonym()
        started = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/arena/anonymous/battles",
                json={"prompt": "Question: 부산의 명소는?", "voter": voter},
                headers=web(scoring),
            ),
            201,
        )
        assert started["answers"]["a"] == started["answers"]["b"] == "부산의 명소는?"
        assert "team" not in str(started)
        voted = await body(await anonymous_vote(scoring, uuid.UUID(started["battle_id"]), voter, "tie"), 201)
        assert voted["counted"] is True
        assert {voted["a"]["team_name"], voted["b"]["team_name"]} == {"Upstage", "LG AI Research"}
        assert await standings_votes(scoring, world, "registered") == 0
        assert await standings_votes(scoring, world, "anonymous") == 1

    async def test_an_anonymous_person_at_the_cap_is_refused_a_battle_before_any_inference(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        await switch(scoring, world.stage_id, True)
        cap = scoring.runtime.settings.arena_anonymous_daily_votes  # type: ignore[attr-defined]
        voter = pseudonym()
        today = datetime.now(UTC).astimezone(SEOUL).date().isoformat()
        async with scoring.ctx() as ctx:
            ctx.session.add(VoteCount(voter=f"anonymous:{voter}", seoul_day=today, counted=cap))
        for path in ("battles", "battles/stream"):
            response = await scoring.client.post(
                f"/v1/stages/{world.stage_id}/arena/anonymous/{path}",
                json={"prompt": "Question: hi", "voter": voter},
                headers=web(scoring),
            )
            assert (response.status_code, response.json()["code"]) == (429, "daily-vote-cap")
            assert response.json()["cap"] == cap
