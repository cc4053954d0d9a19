"""Support allocations: the programme budget, pools, per-team limits, talent support, GPU periods."""

from __future__ import annotations

from registry.factories import programme, set_status, team
from registry.harness import Registry, created

BN = 1_000_000_000


class TestPools:
    async def test_pools_beyond_the_budget_are_refused_with_the_remaining_amount(
        self, registry: Registry
    ) -> None:
        world = await programme(registry, budget=200 * BN)
        path = f"/v1/programmes/{world.programme_id}/pools"
        await created(
            await registry.client.post(
                path, json={"kind": "broadcasting-video", "amount_won": 190 * BN}, headers=registry.operator()
            )
        )
        refused = await registry.client.post(
            path, json={"kind": "joint-data-purchase", "amount_won": 10 * BN + 1}, headers=registry.operator()
        )
        assert refused.status_code == 409
        assert (refused.json()["code"], refused.json()["remaining_won"]) == ("budget-exceeded", 10 * BN)
        support = (
            await registry.client.get(
                f"/v1/programmes/{world.programme_id}/support", headers=registry.operator()
            )
        ).json()
        assert (support["pooled_won"], support["unpooled_won"]) == (190 * BN, 10 * BN)

    async def test_a_team_gets_at_most_its_limit_from_a_pool(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        pool = await created(
            await registry.client.post(
                f"/v1/programmes/{world.programme_id}/pools",
                json={
                    "kind": "specialised-datasets",
                    "amount_won": 14 * BN,
                    "per_team_cap_won": 2_800_000_000,
                },
                headers=registry.operator(),
            )
        )
        path = f"/v1/pools/{pool['id']}/allocations"
        first = {"team_id": str(team_id), "amount_won": 2 * BN, "purpose": "Korean legal corpus"}
        await created(await registry.client.post(path, json=first, headers=registry.operator()))
        refused = await registry.client.post(path, json=first, headers=registry.operator())
        assert (refused.json()["code"], refused.json()["remaining_won"]) == (
            "per-team-cap-exceeded",
            800_000_000,
        )

    async def test_talent_support_goes_only_to_teams_that_applied(self, registry: Registry) -> None:
        world = await programme(registry)
        applied = await team(registry, world, talent_support_applied=True)
        did_not = await team(registry, world)
        pool = await created(
            await registry.client.post(
                f"/v1/programmes/{world.programme_id}/pools",
                json={"kind": "talent", "amount_won": BN},
                headers=registry.operator(),
            )
        )
        path = f"/v1/pools/{pool['id']}/allocations"
        body = {"amount_won": 100_000_000, "purpose": "foreign researchers"}
        refused = await registry.client.post(
            path, json=body | {"team_id": str(did_not)}, headers=registry.operator()
        )
        assert refused.json()["code"] == "talent-support-not-applied"
        accepted = await registry.client.post(
            path, json=body | {"team_id": str(applied)}, headers=registry.operator()
        )
        assert accepted.status_code == 201

    async def test_an_unselected_or_eliminated_team_gets_no_support(self, registry: Registry) -> None:
        world = await programme(registry)
        applicant = await team(registry, world, selected=False)
        eliminated = await team(registry, world)
        await set_status(registry, eliminated, "in-stage", stage_number=1)
        await set_status(registry, eliminated, "eliminated", reason_code="benchmark-threshold")
        pool = await created(
            await registry.client.post(
                f"/v1/programmes/{world.programme_id}/pools",
                json={"kind": "joint-data-purchase", "amount_won": BN},
                headers=registry.operator(),
            )
        )
        for team_id in (applicant, eliminated):
            response = await registry.client.post(
                f"/v1/pools/{pool['id']}/allocations",
                json={"team_id": str(team_id), "amount_won": 1, "purpose": "x"},
                headers=registry.operator(),
            )
            assert response.json()["code"] == "team-not-supported"


class TestGpus:
    async def test_one_gpu_allocation_per_team_per_period(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        package = await created(
            await registry.client.post(
                f"/v1/programmes/{world.programme_id}/gpu-packages",
                json={"gpu_model": "H100", "gpu_count": 1024},
                headers=registry.operator(),
            )
        )
        path = f"/v1/teams/{team_id}/gpu-allocations"
        body = {
            "package_id": package["id"],
            "period_starts_at": "2025-09-01T00:00:00+09:00",
            "period_ends_at": "2026-01-01T00:00:00+09:00",
        }
        await created(await registry.client.post(path, json=body, headers=registry.operator()))
        overlap = body | {
            "period_starts_at": "2025-12-01T00:00:00+09:00",
            "period_ends_at": "2026-03-01T00:00:00+09:00",
        }
        assert (await registry.client.post(path, json=overlap, headers=registry.operator())).json()[
            "code"
        ] == "gpu-allocation-overlap"
        nxt = body | {
            "period_starts_at": "2026-01-01T00:00:00+09:00",
            "period_ends_at": "2026-07-01T00:00:00+09:00",
        }
        assert (await registry.client.post(path, json=nxt, headers=registry.operator())).status_code == 201

    async def test_a_period_that_ends_before_it_starts_is_refused(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        body = {
            "package_id": str(world.programme_id),
            "period_starts_at": "2026-01-01T00:00:00Z",
            "period_ends_at": "2025-01-01T00:00:00Z",
        }
        response = await registry.client.post(
            f"/v1/teams/{team_id}/gpu-allocations", json=body, headers=registry.operator()
        )
        assert response.status_code == 422
