"""Concurrent filings and amendments from many teams: nothing lost, no duplicate, versions in order."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx

from grievance.harness import Grievance

TEAMS = 140
PREFILED = 50
RETRIED = 20


async def listed_objections(grievance: Grievance) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        params = {"decision_id": str(grievance.stage_id), "limit": "200"} | (
            {"cursor": cursor} if cursor else {}
        )
        page = (
            await grievance.client.get("/v1/objections", params=params, headers=grievance.operator())
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


class TestConcurrentFilingsAndAmendments:
    async def test_nothing_is_lost_nothing_is_duplicated_and_versions_are_in_order(
        self, grievance: Grievance
    ) -> None:
        teams = [uuid.uuid4() for _ in range(TEAMS)]
        await grievance.notify(teams)
        prefiled = {}
        for team in teams[:PREFILED]:
            response = await grievance.file(team, statement=f"first version by {team}")
            prefiled[team] = response.json()["id"]

        filings = [(team, f"filing-{team}", f"new objection by {team}") for team in teams[PREFILED:]]
        retries = filings[:RETRIED]  # the same key sent again at the same time: a client retrying
        amendments = [(team, prefiled[team], f"amendment {n} by {team}") for team in prefiled for n in (1, 2)]
        calls = [grievance.file(team, key=key, statement=text) for team, key, text in filings + retries]
        calls += [grievance.amend(team, objection, text) for team, objection, text in amendments]
        assert len(calls) >= 200
        responses: list[httpx.Response] = await asyncio.gather(*calls)

        assert [r.status_code for r in responses if r.status_code != 201] == []
        filed_ids = [r.json()["id"] for r in responses[: len(filings) + len(retries)]]
        assert filed_ids[len(filings) :] == filed_ids[:RETRIED]  # each retry got its original objection

        objections = await listed_objections(grievance)
        ids = [str(o["id"]) for o in objections]
        assert len(ids) == len(set(ids)) == PREFILED + len(filings)
        assert set(filed_ids) | set(prefiled.values()) == set(ids)
        per_team = Counter(str(o["team_id"]) for o in objections)
        assert set(per_team.values()) == {1}

        for team, objection in prefiled.items():
            versions = (
                await grievance.client.get(
                    f"/v1/objections/{objection}/versions", headers=grievance.team(team)
                )
            ).json()["items"]
            assert [v["version"] for v in versions] == [1, 2, 3]
            assert versions[0]["statement"] == f"first version by {team}"
            assert sorted(v["statement"] for v in versions[1:]) == [
                f"amendment 1 by {team}",
                f"amendment 2 by {team}",
            ]

        verification = await grievance.client.get("/v1/audit/verification", headers=grievance.operator())
        assert verification.json()["intact"] is True
