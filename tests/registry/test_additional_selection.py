"""After a finalised stage (StageFinalized from scoring, over the real broker): team statuses follow
the result, and a vacancy opens an additional selection with exactly the eligible teams."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from fmc_common.events.envelope import envelope_for
from fmc_common.events.scoring import Elimination, StageFinalized
from fmc_common.events.topics import Topic
from fmc_registry.seed import OTHERS, SeedResult
from registry.factories import find_event, stage_to
from registry.harness import Registry, created, seeded, unique
from support.eventually import eventually

REGISTRY_CONSUMERS = True  # these tests drive the registry through the events it consumes

ADVANCING = ("LG AI Research", "SK Telecom", "Upstage")
STAGE_2_GPUS = ("2026-01-01T00:00:00+09:00", "2026-07-01T00:00:00+09:00")


async def publish(bootstrap: str, event: StageFinalized) -> None:
    envelope = envelope_for(
        event_type=event.event_type,
        source="/fmc/scoring",
        data=event.model_dump(mode="json"),
        time=datetime.now(UTC),
        subject=event.subject(),
        dataschema=None,
        correlation_id=None,
        causation_id=None,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            str(Topic.SCORING), value=envelope.to_bytes(), key=event.partition_key().encode()
        )
    finally:
        await producer.stop()


async def first_stage_evaluated(registry: Registry) -> SeedResult:
    """The seed programme with stage 1 opened and evaluated, and stage-2 GPUs for the advancing teams."""
    seed = await seeded(registry)
    await stage_to(registry, seed.stage_ids[1], "open-for-submissions")
    await stage_to(registry, seed.stage_ids[1], "evaluating")
    for lead in ("Upstage", "LG AI Research"):
        body = {
            "package_id": str(seed.package_ids["B200"]),
            "period_starts_at": STAGE_2_GPUS[0],
            "period_ends_at": STAGE_2_GPUS[1],
        }
        await created(
            await registry.client.post(
                f"/v1/teams/{seed.team_ids[lead]}/gpu-allocations", json=body, headers=registry.operator()
            )
        )
    return seed


def finalised(seed: SeedResult, advancing: tuple[str, ...], eliminated: dict[str, str]) -> StageFinalized:
    return StageFinalized(
        stage_id=seed.stage_ids[1],
        programme_id=seed.programme_id,
        advancing_team_ids=[seed.team_ids[lead] for lead in advancing],
        eliminated=[
            Elimination(team_id=seed.team_ids[lead], reason_code=code) for lead, code in eliminated.items()
        ],
        planned_advancing=4,
        finalized_at=datetime.now(UTC),
    )


async def eventually_call(registry: Registry, programme_id: uuid.UUID) -> dict[str, Any]:
    async def opened() -> dict[str, Any] | None:
        calls = await registry.client.get(
            f"/v1/programmes/{programme_id}/selection-calls", headers=registry.operator()
        )
        if not calls.json():
            return None
        [call] = calls.json()
        return dict(call)

    return await eventually(opened, interval=0.2, what="an additional-selection call opening")


async def eventually_stage(registry: Registry, stage_id: uuid.UUID, status: str) -> None:
    async def reached() -> bool:
        stage = await registry.client.get(f"/v1/stages/{stage_id}", headers=registry.operator())
        return bool(stage.json()["status"] == status)

    await eventually(reached, interval=0.2, what=f"the stage becoming {status}")


async def apply(registry: Registry, call_id: str, team_id: uuid.UUID) -> Any:
    return await registry.client.post(
        f"/v1/selection-calls/{call_id}/applications",
        json={"team_id": str(team_id)},
        headers=registry.as_team(team_id),
    )


STAGE_1_RESULT = {"NC AI": "benchmark-threshold", "Naver Cloud": "originality"}


class TestStageFinalized:
    async def test_three_of_four_advancing_opens_a_call_with_exactly_the_eligible_teams(
        self, registry: Registry
    ) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
        call = await eventually_call(registry, seed.programme_id)
        assert call["vacancies"] == 1
        assert call["status"] == "open"
        eligible = {e["team_id"]: e["basis"] for e in call["eligible"]}
        expected = {
            str(seed.team_ids["NC AI"]): "eliminated-in-stage",
            str(seed.team_ids["Naver Cloud"]): "eliminated-in-stage",
        }
        expected |= {str(seed.team_ids[t.lead]): "preliminary-review" for t in OTHERS if t.rank <= 10}
        assert eligible == expected
        envelope = await find_event(
            registry.bootstrap,
            Topic.REGISTRY,
            "fmc.registry.additional-selection-opened.v1",
            {"call_id": call["id"]},
        )
        assert set(envelope["data"]["eligible_team_ids"]) == set(expected)

    async def test_team_statuses_follow_the_result_and_the_stage_becomes_final(
        self, registry: Registry
    ) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
        await eventually_stage(registry, seed.stage_ids[1], "final")
        for lead in ADVANCING:
            team = (
                await registry.client.get(f"/v1/teams/{seed.team_ids[lead]}", headers=registry.operator())
            ).json()
            assert (team["status"], team["stage_number"]) == ("advanced", 1)
        for lead, reason in STAGE_1_RESULT.items():
            team = (
                await registry.client.get(f"/v1/teams/{seed.team_ids[lead]}", headers=registry.operator())
            ).json()
            assert (team["status"], team["elimination_reason"]) == ("eliminated", reason)
        public = await registry.client.get(
            "/v1/public/teams", params={"programme_id": str(seed.programme_id)}
        )
        statuses = {i["lead_organisation"].split(" [")[0]: i["public_status"] for i in public.json()["items"]}
        assert statuses["Naver Cloud"] == "eliminated in stage 1 (did not meet the originality standard)"
        assert statuses["Upstage"] == "advanced from stage 1"
        trail = await registry.client.get(
            "/v1/audit", params={"entity_id": str(seed.team_ids["NC AI"])}, headers=registry.operator()
        )
        last = trail.json()["items"][-1]
        assert (last["actor_subject"], last["details"]["to"], last["details"]["reason_code"]) == (
            "service:scoring",
            "eliminated",
            "benchmark-threshold",
        )

    async def test_when_all_planned_teams_advance_no_call_opens(self, registry: Registry) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, (*ADVANCING, "NC AI"), {"Naver Cloud": "rank"}))
        await eventually_stage(registry, seed.stage_ids[1], "final")
        calls = await registry.client.get(
            f"/v1/programmes/{seed.programme_id}/selection-calls", headers=registry.operator()
        )
        assert calls.json() == []


class TestApplications:
    async def test_ineligible_applications_are_refused_and_eligible_ones_recorded(
        self, registry: Registry
    ) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
        call = await eventually_call(registry, seed.programme_id)
        refused = await apply(registry, call["id"], seed.team_ids["SK Telecom"])  # advanced
        assert refused.status_code == 409
        assert refused.json()["code"] == "selection-ineligible"
        naver = await apply(registry, call["id"], seed.team_ids["Naver Cloud"])
        assert (naver.status_code, naver.json()["basis"]) == (201, "eliminated-in-stage")
        follow_up = await apply(registry, call["id"], seed.team_ids["Applicant 07 lead company"])
        assert follow_up.json()["basis"] == "preliminary-review"
        # Ranked 12th, no preliminary review: "companies that participated in the call for proposals
        # earlier" may apply too (15 January briefing).
        earlier = await apply(registry, call["id"], seed.team_ids["Applicant 12 lead company"])
        assert (earlier.status_code, earlier.json()["basis"]) == (201, "earlier-applicant")

    async def test_a_newcomer_may_apply_and_once_selected_gets_the_advancing_teams_gpus(
        self, registry: Registry
    ) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
        call = await eventually_call(registry, seed.programme_id)
        body = {
            "name": unique("Newcomer consortium"),
            "lead_organisation": unique("Newcomer"),
            "programme_id": str(seed.programme_id),
        }
        newcomer = uuid.UUID(
            (await created(await registry.client.post("/v1/teams", json=body, headers=registry.operator())))[
                "id"
            ]
        )
        applied = await apply(registry, call["id"], newcomer)
        assert applied.json()["basis"] == "new-applicant"
        await stage_to(registry, seed.stage_ids[2], "open-for-submissions")
        chosen = await registry.client.post(
            f"/v1/selection-calls/{call['id']}/selection",
            json={"team_id": str(newcomer), "reason": "selected by the review panel"},
            headers=registry.operator(),
        )
        assert chosen.status_code == 200, chosen.text
        assert (chosen.json()["team_status"], chosen.json()["gpu_refusal"]) == ("in-stage", None)
        gpus = (
            await registry.client.get(f"/v1/teams/{newcomer}/support", headers=registry.operator())
        ).json()
        [allocation] = gpus["gpu_allocations"]
        assert allocation["package_id"] == str(seed.package_ids["B200"])
        assert allocation["period_starts_at"].startswith("2025-12-31T15:00:00")
        closed = (
            await registry.client.get(f"/v1/selection-calls/{call['id']}", headers=registry.operator())
        ).json()
        assert closed["status"] == "closed"
        late = await apply(registry, call["id"], seed.team_ids["Applicant 08 lead company"])
        assert late.json()["code"] == "selection-call-closed"

    async def test_a_selected_gpu_supplier_joins_without_gpus(self, registry: Registry) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
        call = await eventually_call(registry, seed.programme_id)
        await apply(registry, call["id"], seed.team_ids["Naver Cloud"])
        chosen = await registry.client.post(
            f"/v1/selection-calls/{call['id']}/selection",
            json={"team_id": str(seed.team_ids["Naver Cloud"]), "reason": "re-selected"},
            headers=registry.operator(),
        )
        assert (chosen.json()["team_status"], chosen.json()["gpu_refusal"]) == (
            "selected",
            "gpu-supplier-conflict",
        )

    async def test_only_an_applicant_can_be_selected(self, registry: Registry) -> None:
        seed = await first_stage_evaluated(registry)
        await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
        call = await eventually_call(registry, seed.programme_id)
        refused = await registry.client.post(
            f"/v1/selection-calls/{call['id']}/selection",
            json={"team_id": str(seed.team_ids["NC AI"]), "reason": "x"},
            headers=registry.operator(),
        )
        assert refused.json()["code"] == "selection-not-an-applicant"
