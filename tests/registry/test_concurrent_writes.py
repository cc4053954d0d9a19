"""Writes that race: the checks before an insert are backed by the database, so concurrent requests
get the conflict they would get one after the other, never a server error. On PostgreSQL the
requests really overlap (a connection each); on SQLite they queue for its one writer."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx

from registry.factories import programme, team
from registry.harness import Registry, created, unique

RACERS = 6


async def race(registry: Registry, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(registry.client.post(path, json=body, headers=registry.operator()) for body in bodies)
        )
    )


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter((r.status_code, r.json().get("code", "")) for r in responses)


class TestConcurrentWrites:
    async def test_one_of_several_registrations_of_a_team_name_wins(self, registry: Registry) -> None:
        body = {"name": unique("Consortium"), "lead_organisation": unique("Lead")}
        responses = await race(registry, "/v1/teams", [body] * RACERS)
        assert outcomes(responses) == Counter({(201, ""): 1, (409, "team-name-taken"): RACERS - 1})

    async def test_teams_of_one_new_organisation_registered_at_once_share_it(
        self, registry: Registry
    ) -> None:
        lead = unique("Lead")
        bodies = [{"name": unique("Consortium"), "lead_organisation": lead} for _ in range(RACERS)]
        responses = await race(registry, "/v1/teams", bodies)
        assert [r.status_code for r in responses] == [201] * RACERS, [r.text for r in responses]
        organisations = await registry.client.get(
            "/v1/organisations", params={"limit": 200}, headers=registry.operator()
        )
        named = [o for o in (await created(organisations))["items"] if o["name"] == lead]
        assert len(named) == 1

    async def test_one_of_several_programmes_of_one_name_wins(self, registry: Registry) -> None:
        body = {"name": unique("Programme"), "budget_won": 10**9}
        responses = await race(registry, "/v1/programmes", [body] * RACERS)
        assert outcomes(responses) == Counter({(201, ""): 1, (409, "programme-name-taken"): RACERS - 1})

    async def test_overlapping_gpu_allocations_for_one_team_at_once_grant_one(
        self, registry: Registry
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        package = await created(
            await registry.client.post(
                f"/v1/programmes/{world.programme_id}/gpu-packages",
                json={"gpu_model": "B200", "gpu_count": 256},
                headers=registry.operator(),
            )
        )
        body = {
            "package_id": package["id"],
            "period_starts_at": "2025-09-01T00:00:00+09:00",
            "period_ends_at": "2026-01-01T00:00:00+09:00",
        }
        responses = await race(registry, f"/v1/teams/{team_id}/gpu-allocations", [body] * RACERS)
        assert outcomes(responses) == Counter({(201, ""): 1, (409, "gpu-allocation-overlap"): RACERS - 1})

    async def test_one_idempotency_key_sent_twice_at_once_creates_one_team(self, registry: Registry) -> None:
        """The same retry arriving twice: each answer is the created team or a conflict to retry."""
        body = {"name": unique("Consortium"), "lead_organisation": unique("Lead")}
        headers = registry.operator() | {"Idempotency-Key": str(uuid.uuid4())}
        responses = await asyncio.gather(
            *(registry.client.post("/v1/teams", json=body, headers=headers) for _ in range(RACERS))
        )
        assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
        created_ids = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(created_ids) == 1
        codes = {r.json()["code"] for r in responses if r.status_code == 409}
        assert codes <= {"concurrent-conflict", "team-name-taken"}
