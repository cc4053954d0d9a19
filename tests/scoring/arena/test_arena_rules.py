"""The arena's rules through the API, on SQLite and PostgreSQL: the daily cap under concurrent votes,
battles that expire, identity hygiene on words (prompt and answers, operators' aliases, the rule
and kind said), and malformed records left out of the standings with their reason."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from fmc_scoring.arena import repository
from fmc_scoring.arena.models import Battle, Vote
from fmc_scoring.arena.service import seoul_day
from scoring.harness import Scoring, StageWorld, body, new_stage

pytestmark = [pytest.mark.broker, pytest.mark.triton]


async def seed_battles(
    scoring: Scoring,
    world: StageWorld,
    voter: str,
    count: int = 1,
    *,
    prompt: str = "서울의 명소를 추천해 주세요.",
    a_text: str = "경복궁을 추천합니다.",
    b_text: str = "남산타워를 추천합니다.",
    age: timedelta = timedelta(0),
    same_team: bool = False,
) -> list[uuid.UUID]:
    """Battles as the arena stores them after the gateway answered (``age`` ago)."""
    a, b = list(world.teams.values())[:2]
    b = a if same_team else b
    ids = []
    async with scoring.ctx() as ctx:
        for _ in range(count):
            battle = Battle(
                id=uuid.uuid4(),
                stage_id=world.stage_id,
                voter=voter,
                prompt=prompt,
                a_team_id=a,
                b_team_id=b,
                a_submission_id=world.submissions[a],
                b_submission_id=world.submissions[b],
                a_text=a_text,
                b_text=b_text,
                created_at=ctx.clock.now() - age,
            )
            ctx.session.add(battle)
            ids.append(battle.id)
    return ids


async def cast(scoring: Scoring, voter: str, battle_id: uuid.UUID, choice: str = "a") -> Any:
    return await scoring.client.post(
        f"/v1/arena/battles/{battle_id}/vote", json={"choice": choice}, headers=scoring.as_evaluator(voter)
    )


async def vote_records(scoring: Scoring, world: StageWorld) -> dict[str, dict[str, Any]]:
    found = await body(
        await scoring.client.get(f"/v1/stages/{world.stage_id}/arena/votes", headers=scoring.operator())
    )
    return {v["battle_id"]: v for v in found}


class TestDailyCap:
    async def test_eighty_concurrent_votes_of_one_voter_count_exactly_the_cap(self, scoring: Scoring) -> None:
        cap = scoring.runtime.settings.arena_daily_votes  # type: ignore[attr-defined]
        assert cap == 50
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        battles = await seed_battles(scoring, world, voter, 80)

        answers = await asyncio.gather(*(cast(scoring, voter, b) for b in battles))

        statuses = [r.status_code for r in answers]
        assert (statuses.count(201), statuses.count(429)) == (50, 30), statuses
        refused = [r.json() for r in answers if r.status_code == 429]
        assert {(p["code"], p["cap"]) for p in refused} == {("daily-vote-cap", 50)}
        kept = await vote_records(scoring, world)
        assert (len(kept), sum(v["counted"] for v in kept.values())) == (50, 50)

    async def test_one_battle_voted_twice_at_once_counts_once(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        (battle,) = await seed_battles(scoring, world, voter)

        answers = await asyncio.gather(*(cast(scoring, voter, battle, c) for c in ("a", "b", "tie")))

        assert sorted(r.status_code for r in answers) == [201, 409, 409]
        assert {r.json()["code"] for r in answers if r.status_code == 409} == {"already-voted"}
        async with scoring.ctx() as ctx:
            assert await repository.counted_today(ctx.session, voter, seoul_day(ctx.clock.now())) == 1

    async def test_a_discarded_vote_takes_nothing_of_the_cap(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        (named,) = await seed_battles(scoring, world, voter, a_text="Upstage here.")
        voted = await body(await cast(scoring, voter, named), 201)
        assert voted["counted"] is False
        async with scoring.ctx() as ctx:
            today = seoul_day(ctx.clock.now())
            assert await repository.counted_today(ctx.session, voter, today) == 0


class TestExpiry:
    async def test_a_vote_after_the_battles_expiry_is_refused_as_gone(self, scoring: Scoring) -> None:
        expiry = scoring.runtime.settings.arena_battle_expiry_seconds  # type: ignore[attr-defined]
        assert expiry == 3600
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        (old,) = await seed_battles(scoring, world, voter, age=timedelta(seconds=expiry + 1))
        (fresh,) = await seed_battles(scoring, world, voter, age=timedelta(seconds=expiry - 60))

        refused = await cast(scoring, voter, old)
        assert (refused.status_code, refused.json()["code"]) == (410, "battle-expired")
        assert refused.json()["expiry_seconds"] == expiry
        assert datetime.fromisoformat(refused.json()["expired_at"]) < datetime.now().astimezone()
        await body(await cast(scoring, voter, fresh), 201)
        assert str(old) not in await vote_records(scoring, world)


class TestHygiene:
    async def test_team_kt_does_not_discard_an_answer_about_the_market(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["KT", "Upstage"])
        voter = f"voter-{uuid.uuid4()}"
        (battle,) = await seed_battles(
            scoring, world, voter, a_text="I went back to the market.", b_text="An axe is a tool."
        )
        voted = await body(await cast(scoring, voter, battle), 201)
        assert (voted["counted"], voted["discard_reason"], voted["discard_term_kind"]) == (True, None, None)

    async def test_a_prompt_naming_a_contender_discards_the_vote_with_its_rule(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        (battle,) = await seed_battles(scoring, world, voter, prompt="Are you LG AI Research's model?")
        voted = await body(await cast(scoring, voter, battle), 201)
        assert (voted["counted"], voted["discard_reason"], voted["discard_term_kind"]) == (
            False,
            "prompt-identification",
            "team",
        )
        record = (await vote_records(scoring, world))[str(battle)]
        assert (record["discard_reason"], record["discard_term"]) == (
            "prompt-identification",
            "lg ai research",
        )

    async def test_an_answer_naming_its_model_by_an_alias_is_discarded_without_telling_the_voter_the_name(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        upstage = world.teams["Upstage"]
        await body(
            await scoring.client.post(
                f"/v1/teams/{upstage}/arena/aliases",
                json={"alias": "솔라", "kind": "model", "reason": "the model's Korean brand name"},
                headers=scoring.operator(),
            ),
            201,
        )
        voter = f"voter-{uuid.uuid4()}"
        (battle,) = await seed_battles(scoring, world, voter, a_text="저는 솔라입니다. 경복궁을 추천해요.")
        response = await cast(scoring, voter, battle)
        voted = await body(response, 201)
        assert (voted["counted"], voted["discard_reason"], voted["discard_term_kind"]) == (
            False,
            "self-identification",
            "model",
        )
        assert "솔라" not in response.text.replace(voted["a"]["team_name"], "")
        record = (await vote_records(scoring, world))[str(battle)]
        assert (record["discard_term_kind"], record["discard_term"]) == ("model", "솔라")

    async def test_the_hangul_spelling_of_a_team_is_found_once_an_operator_adds_it(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        answer = "저는 업스테이지에서 만든 모델입니다."
        (before,) = await seed_battles(scoring, world, voter, a_text=answer)
        assert (await body(await cast(scoring, voter, before), 201))["counted"] is True
        await body(
            await scoring.client.post(
                f"/v1/teams/{world.teams['Upstage']}/arena/aliases",
                json={"alias": "업스테이지", "kind": "team", "reason": "Korean spelling"},
                headers=scoring.operator(),
            ),
            201,
        )
        (after,) = await seed_battles(scoring, world, voter, a_text=answer)
        voted = await body(await cast(scoring, voter, after), 201)
        assert (voted["counted"], voted["discard_term_kind"]) == (False, "team")


class TestAliases:
    async def test_operators_add_list_and_remove_aliases_and_each_change_is_audited(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        team = world.teams["Upstage"]
        url = f"/v1/teams/{team}/arena/aliases"
        added = await body(
            await scoring.client.post(
                url,
                json={"alias": "Up-Stage", "kind": "team", "reason": "hyphenated spelling"},
                headers=scoring.operator(),
            ),
            201,
        )
        assert (added["normalised"], added["kind"], added["added_by"]) == ("up stage", "team", "operator-kim")
        again = await scoring.client.post(
            url, json={"alias": "up stage", "kind": "team", "reason": "same"}, headers=scoring.operator()
        )
        assert (again.status_code, again.json()["code"]) == (409, "alias-exists")
        listed = await body(await scoring.client.get(url, headers=scoring.operator()))
        assert [a["alias_id"] for a in listed] == [added["alias_id"]]

        removed = await scoring.client.delete(
            f"{url}/{added['alias_id']}", params={"reason": "too broad"}, headers=scoring.operator()
        )
        assert removed.status_code == 204
        assert await body(await scoring.client.get(url, headers=scoring.operator())) == []
        gone = await scoring.client.delete(
            f"{url}/{added['alias_id']}", params={"reason": "again"}, headers=scoring.operator()
        )
        assert (gone.status_code, gone.json()["code"]) == (404, "alias-not-found")

        trail = await body(
            await scoring.client.get("/v1/audit", params={"entity_id": str(team)}, headers=scoring.operator())
        )
        entries = [(e["action"], e["reason"], e["actor_subject"]) for e in trail["items"]]
        assert ("arena.alias-added", "hyphenated spelling", "operator-kim") in entries
        assert ("arena.alias-removed", "too broad", "operator-kim") in entries

    async def test_only_operators_maintain_aliases_and_bad_ones_are_refused(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        team = world.teams["Upstage"]
        url = f"/v1/teams/{team}/arena/aliases"
        alias = {"alias": "업스테이지", "kind": "team", "reason": "Korean spelling"}
        for headers in ({}, scoring.as_team(team), scoring.as_evaluator("voter-kim")):
            assert (await scoring.client.post(url, json=alias, headers=headers)).status_code in (401, 403)
            assert (await scoring.client.get(url, headers=headers)).status_code in (401, 403)
        short = await scoring.client.post(url, json=alias | {"alias": "K."}, headers=scoring.operator())
        assert (short.status_code, short.json()["code"]) == (422, "alias-too-short")
        ligatures = await scoring.client.post(
            url, json=alias | {"alias": "\ufdfa" * 12}, headers=scoring.operator()
        )
        assert (ligatures.status_code, ligatures.json()["code"]) == (422, "alias-too-long")
        unknown = await scoring.client.post(
            f"/v1/teams/{uuid.uuid4()}/arena/aliases", json=alias, headers=scoring.operator()
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "team-not-found")


class TestMalformedRecords:
    async def test_a_self_battle_and_a_vote_without_its_battle_are_left_out_with_their_reason(
        self, scoring: Scoring
    ) -> None:
        world = await new_stage(scoring, ["Upstage", "LG AI Research"])
        voter = f"voter-{uuid.uuid4()}"
        for battle_id in await seed_battles(scoring, world, voter, 3):
            await body(await cast(scoring, voter, battle_id), 201)
        (self_battle,) = await seed_battles(scoring, world, voter, same_team=True)
        await body(await cast(scoring, voter, self_battle), 201)
        orphan = uuid.uuid4()
        async with scoring.ctx() as ctx:
            now = ctx.clock.now()
            ctx.session.add(
                Vote(
                    battle_id=orphan,
                    stage_id=world.stage_id,
                    voter=voter,
                    choice="b",
                    counted=True,
                    seoul_day=seoul_day(now),
                    voted_at=now,
                )
            )

        standings = await body(
            await scoring.client.get(
                f"/v1/stages/{world.stage_id}/arena/standings", headers=scoring.operator()
            )
        )
        assert standings["votes"] == 3
        assert {t["team_id"] for t in standings["teams"]} == {str(t) for t in world.teams.values()}
        records = await vote_records(scoring, world)
        assert records[str(self_battle)]["malformed"] == "self-battle"
        assert records[str(orphan)]["malformed"] == "missing-battle"
        assert sum(1 for r in records.values() if r["malformed"] is None) == 3
