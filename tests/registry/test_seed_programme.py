"""Acceptance: the programme of the seed articles loads through the API, with its support rules."""

from __future__ import annotations

from fmc_registry.seed import BN, SELECTED, SUPPLIERS, SeedResult
from registry.harness import Registry, seeded

ELITE = {"Naver Cloud", "Upstage", "SK Telecom", "NC AI", "LG AI Research"}


async def teams_of(
    registry: Registry, seed: SeedResult, status: str | None = None
) -> list[dict[str, object]]:
    params = {"programme_id": str(seed.programme_id), "limit": "200"} | ({"status": status} if status else {})
    response = await registry.client.get("/v1/teams", params=params, headers=registry.operator())
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


class TestSeedProgramme:
    async def test_fifteen_applicants_and_the_five_elite_teams_are_registered(
        self, registry: Registry
    ) -> None:
        seed = await seeded(registry)
        teams = await teams_of(registry, seed)
        assert len(teams) == 15
        selected = await teams_of(registry, seed, "selected")
        assert {str(t["lead_organisation"]).split(" [")[0] for t in selected} == ELITE
        ranks = {t["applicant_rank"] for t in teams}
        assert ranks == set(range(1, 16))
        follow_up = [t for t in teams if 6 <= int(str(t["applicant_rank"])) <= 10]
        assert all(t["status"] == "applicant" and t["preliminary_review"] for t in follow_up)
        assert sum(bool(t["preliminary_review"]) for t in teams) == 10
        talent = {str(t["lead_organisation"]).split(" [")[0] for t in teams if t["talent_support_applied"]}
        assert talent == {"Upstage"}

    async def test_the_budget_pools_and_gpu_packages_are_those_of_the_articles(
        self, registry: Registry
    ) -> None:
        seed = await seeded(registry)
        response = await registry.client.get(
            f"/v1/programmes/{seed.programme_id}/support", headers=registry.operator()
        )
        support = response.json()
        assert support["budget_won"] == 200 * BN
        pools = {p["kind"]: p for p in support["pools"]}
        assert pools["joint-data-purchase"]["amount_won"] == 10 * BN
        assert pools["broadcasting-video"]["amount_won"] == 20 * BN
        assert pools["specialised-datasets"]["per_team_cap_won"] == 2_800_000_000
        assert pools["specialised-datasets"]["allocated_won"] == 5 * 2_800_000_000
        packages = {(p["gpu_model"], p["gpu_count"]) for p in support["gpu_packages"]}
        assert packages == {("B200", 512), ("H100", 1024)}
        suppliers = {c["supplier_organisation_id"]: c for c in support["gpu_supplier_contracts"]}
        assert set(suppliers) == {str(seed.organisation_ids[s]) for s, _, _ in SUPPLIERS}
        stages = (
            await registry.client.get(
                f"/v1/programmes/{seed.programme_id}/stages", headers=registry.operator()
            )
        ).json()
        assert [(s["number"], s["planned_advancing"], s["objection_days"]) for s in stages] == [
            (1, 4, 10),
            (2, 3, 10),
            (3, 2, 10),
        ]

    async def test_gpu_support_is_refused_to_the_suppliers_and_given_to_the_three_others(
        self, registry: Registry
    ) -> None:
        seed = await seeded(registry)
        assert seed.gpu_outcomes["SK Telecom"] == (409, "gpu-supplier-conflict")
        assert seed.gpu_outcomes["Naver Cloud"] == (409, "gpu-supplier-conflict")
        for lead in ("Upstage", "NC AI", "LG AI Research"):
            assert seed.gpu_outcomes[lead] == (201, None)
        for team in SELECTED:
            support = await registry.client.get(
                f"/v1/teams/{seed.team_ids[team.lead]}/support", headers=registry.operator()
            )
            gpus = support.json()["gpu_allocations"]
            assert len(gpus) == (0 if team.lead in {"SK Telecom", "Naver Cloud"} else 1)

    async def test_a_supplier_becomes_eligible_when_its_rental_contract_ends(
        self, registry: Registry
    ) -> None:
        seed = await seeded(registry)
        path = f"/v1/teams/{seed.team_ids['SK Telecom']}/gpu-allocations"
        during = {
            "package_id": str(seed.package_ids["B200"]),
            "period_starts_at": "2026-06-01T00:00:00+09:00",
            "period_ends_at": "2026-12-31T00:00:00+09:00",
        }
        refused = await registry.client.post(path, json=during, headers=registry.operator())
        assert refused.status_code == 409
        assert refused.json()["code"] == "gpu-supplier-conflict"
        assert refused.json()["eligible_from"].startswith("2026-06-30T15:00:00")
        after = during | {"period_starts_at": "2026-07-01T00:00:00+09:00"}
        accepted = await registry.client.post(path, json=after, headers=registry.operator())
        assert accepted.status_code == 201, accepted.text

    async def test_a_data_allocation_beyond_its_pool_is_refused_with_the_remaining_amount(
        self, registry: Registry
    ) -> None:
        seed = await seeded(registry)
        pool = seed.pool_ids["joint-data-purchase"]
        body = {
            "team_id": str(seed.team_ids["Upstage"]),
            "amount_won": 10 * BN + 1,
            "purpose": "joint purchase",
        }
        refused = await registry.client.post(
            f"/v1/pools/{pool}/allocations", json=body, headers=registry.operator()
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "pool-exceeded"
        assert refused.json()["remaining_won"] == 10 * BN
        within = body | {"amount_won": 10 * BN}
        assert (
            await registry.client.post(
                f"/v1/pools/{pool}/allocations", json=within, headers=registry.operator()
            )
        ).status_code == 201
        one_more = body | {"amount_won": 1}
        exhausted = await registry.client.post(
            f"/v1/pools/{pool}/allocations", json=one_more, headers=registry.operator()
        )
        assert exhausted.json()["remaining_won"] == 0

    async def test_the_public_list_shows_names_and_public_status_only(self, registry: Registry) -> None:
        seed = await seeded(registry)
        response = await registry.client.get(
            "/v1/public/teams", params={"programme_id": str(seed.programme_id)}
        )
        assert response.status_code == 200
        items = response.json()["items"]
        assert {i["lead_organisation"].split(" [")[0] for i in items} == ELITE
        assert all(set(i) == {"id", "name", "lead_organisation", "public_status"} for i in items)
        assert {i["public_status"] for i in items} == {"selected"}
        assert "rank" not in response.text
