"""After a finalised stage (StageFinalized from scoring, over the real broker): team statuses follow
the result, and a vacancy opens an additional selection with exactly the eligible teams. A stage
reopened by scoring (StageReopened) and finalised again takes the corrected result."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from fmc_common.events.base import Event
from fmc_common.events.envelope import envelope_for
from fmc_common.events.scoring import (
    Elimination,
    PublishedTeamOutcome,
    StageFinalized,
    StageReopened,
    StageResultsPublished,
)
from fmc_common.events.topics import Topic
from fmc_registry.seed import OTHERS, SeedResult
from registry.factories import find_event, stage_to
from registry.harness import Registry, created, seeded, unique
from support.eventually import eventually

REGISTRY_CONSUMERS = True  # these tests drive the registry through the events it consumes

ADVANCING = ("LG AI Research", "SK Telecom", "Upstage")
STAGE_2_GPUS = ("2026-01-01T00:00:00+09:00", "2026-07-01T00:00:00+09:00")


async def publish(bootstrap: str, event: Event) -> None:
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


async def finalised_stage(
    registry: Registry,
    advancing: tuple[str, ...] = ADVANCING,
    eliminated: dict[str, str] | None = None,
) -> SeedResult:
    """Stage 1 evaluated, then finalised by scoring (over the broker) and applied: the stage is final."""
    seed = await first_stage_evaluated(registry)
    await publish(
        registry.bootstrap, finalised(seed, advancing, STAGE_1_RESULT if eliminated is None else eliminated)
    )
    await eventually_stage(registry, seed.stage_ids[1], "final")
    return seed


async def finalised_with_a_call(registry: Registry) -> tuple[SeedResult, dict[str, Any]]:
    """Stage 1 finalised with three of four planned teams advancing: the call for the vacancy is open."""
    seed = await first_stage_evaluated(registry)
    await publish(registry.bootstrap, finalised(seed, ADVANCING, STAGE_1_RESULT))
    return seed, await eventually_call(registry, seed.programme_id)


class TestStageFinalized:
    async def test_three_of_four_advancing_opens_a_call_with_exactly_the_eligible_teams(
        self, registry: Registry
    ) -> None:
        seed, call = await finalised_with_a_call(registry)
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
        seed = await finalised_stage(registry)
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
        seed = await finalised_stage(registry, (*ADVANCING, "NC AI"), {"Naver Cloud": "rank"})
        calls = await registry.client.get(
            f"/v1/programmes/{seed.programme_id}/selection-calls", headers=registry.operator()
        )
        assert calls.json() == []


class TestApplications:
    async def test_ineligible_applications_are_refused_and_eligible_ones_recorded(
        self, registry: Registry
    ) -> None:
        seed, call = await finalised_with_a_call(registry)
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
        seed, call = await finalised_with_a_call(registry)
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
        seed, call = await finalised_with_a_call(registry)
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
        seed, call = await finalised_with_a_call(registry)
        refused = await registry.client.post(
            f"/v1/selection-calls/{call['id']}/selection",
            json={"team_id": str(seed.team_ids["NC AI"]), "reason": "x"},
            headers=registry.operator(),
        )
        assert refused.json()["code"] == "selection-not-an-applicant"


def reopened(
    seed: SeedResult, reason: str = "an objection on the originality check was upheld"
) -> StageReopened:
    return StageReopened(
        reopening_id=uuid.uuid4(),
        stage_id=seed.stage_ids[1],
        programme_id=seed.programme_id,
        version=1,
        reason=reason,
        reopened_by="operator-kim",
        reopened_at=datetime.now(UTC),
        objection_days=9,
        teams=[PublishedTeamOutcome(team_id=seed.team_ids[lead], outcome="advanced") for lead in ADVANCING],
    )


def republished(seed: SeedResult, advancing: tuple[str, ...], version: int) -> StageResultsPublished:
    return StageResultsPublished(
        stage_id=seed.stage_ids[1],
        programme_id=seed.programme_id,
        published_at=datetime.now(UTC),
        objection_days=9,
        teams=[PublishedTeamOutcome(team_id=seed.team_ids[lead], outcome="advanced") for lead in advancing],
        version=version,
        corrects_version=version - 1,
    )


async def team_of(registry: Registry, seed: SeedResult, lead: str) -> dict[str, Any]:
    response = await registry.client.get(f"/v1/teams/{seed.team_ids[lead]}", headers=registry.operator())
    return dict(response.json())


async def trail(registry: Registry, entity_id: uuid.UUID | str) -> list[dict[str, Any]]:
    response = await registry.client.get(
        "/v1/audit", params={"entity_id": str(entity_id), "limit": 200}, headers=registry.operator()
    )
    return list(response.json()["items"])


async def assert_not_dead_lettered(registry: Registry, seed: SeedResult, event_type: str) -> None:
    """Called once a later event of the same stage (same partition) was applied: the consumer had
    already dead-lettered anything before it, waiting for the acknowledgement."""
    try:
        letter = await find_event(
            registry.bootstrap,
            Topic.REGISTRY_DLQ,
            event_type,
            {"stage_id": str(seed.stage_ids[1])},
            timeout=3.0,
        )
    except AssertionError:
        return
    raise AssertionError(f"dead-lettered: {letter}")


CORRECTED = ("LG AI Research", "SK Telecom", "Naver Cloud")  # Naver Cloud's originality verdict reversed
CORRECTED_RESULT = {"NC AI": "benchmark-threshold", "Upstage": "originality"}


class TestCorrectionAfterReopening:
    async def test_a_reopening_takes_the_stage_out_of_final_and_leaves_the_teams_as_they_are(
        self, registry: Registry
    ) -> None:
        seed = await finalised_stage(registry)
        reopening = reopened(seed)
        await publish(registry.bootstrap, reopening)
        await eventually_stage(registry, seed.stage_ids[1], "reopened")
        assert (await team_of(registry, seed, "Upstage"))["status"] == "advanced"
        assert (await team_of(registry, seed, "Naver Cloud"))["elimination_reason"] == "originality"
        last = (await trail(registry, seed.stage_ids[1]))[-1]
        assert last["actor_subject"] == "service:scoring"
        assert (
            last["reason"]
            == "reopened by scoring for a correction: an objection on the originality check was upheld"
        )
        assert (last["details"]["from"], last["details"]["to"]) == ("final", "reopened")
        assert last["details"]["reopening_id"] == str(reopening.reopening_id)
        refused = await registry.client.post(
            f"/v1/stages/{seed.stage_ids[2]}/status",
            json={"to": "reopened", "reason": "by hand"},
            headers=registry.operator(),
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "stage-reopening-is-scorings")

    async def test_the_next_finalisation_corrects_the_reversed_teams_and_a_redelivery_changes_nothing(
        self, registry: Registry
    ) -> None:
        seed, call = await finalised_with_a_call(registry)
        await publish(registry.bootstrap, reopened(seed))
        await eventually_stage(registry, seed.stage_ids[1], "reopened")
        await publish(registry.bootstrap, republished(seed, CORRECTED, version=2))
        corrected = finalised(seed, CORRECTED, CORRECTED_RESULT)
        await publish(registry.bootstrap, corrected)
        await eventually_stage(registry, seed.stage_ids[1], "final")

        naver, upstage = (
            await team_of(registry, seed, "Naver Cloud"),
            await team_of(registry, seed, "Upstage"),
        )
        assert (naver["status"], naver["stage_number"], naver["elimination_reason"]) == ("advanced", 1, None)
        assert (upstage["status"], upstage["stage_number"], upstage["elimination_reason"]) == (
            "eliminated",
            1,
            "originality",
        )
        for lead, before, after in (
            ("Naver Cloud", "eliminated", "advanced"),
            ("Upstage", "advanced", "eliminated"),
        ):
            last = (await trail(registry, seed.team_ids[lead]))[-1]
            assert (last["action"], last["reason"], last["actor_subject"]) == (
                "team.status-corrected",
                "stage 1 corrected result",
                "service:scoring",
            )
            assert (last["details"]["from"], last["details"]["to"]) == (before, after)
        # Unchanged teams get no entry; the open call keeps its one vacancy, and Upstage, now
        # eliminated in the stage, may apply to it.
        assert (await trail(registry, seed.team_ids["SK Telecom"]))[-1]["action"] == "team.status-changed"
        assert (await team_of(registry, seed, "NC AI"))["elimination_reason"] == "benchmark-threshold"
        still = (
            await registry.client.get(f"/v1/selection-calls/{call['id']}", headers=registry.operator())
        ).json()
        assert (still["status"], still["vacancies"]) == ("open", 1)
        assert str(seed.team_ids["Upstage"]) in {e["team_id"] for e in still["eligible"]}
        assert "selection.vacancies-changed" not in {e["action"] for e in await trail(registry, call["id"])}

        # The same final result again (a new envelope, past the inbox), then the same envelope twice:
        # nothing changes and nothing is dead-lettered.
        entries = {
            lead: len(await trail(registry, seed.team_ids[lead])) for lead in ("Naver Cloud", "Upstage")
        }
        stage_entries = len(await trail(registry, seed.stage_ids[1]))
        await publish(registry.bootstrap, corrected)
        await publish(registry.bootstrap, finalised(seed, CORRECTED, CORRECTED_RESULT))
        await publish(registry.bootstrap, republished(seed, CORRECTED, version=2))
        await publish(registry.bootstrap, reopened(seed, "a later reopening, to know the others were read"))
        await eventually_stage(registry, seed.stage_ids[1], "reopened")
        assert {lead: len(await trail(registry, seed.team_ids[lead])) for lead in entries} == entries
        assert len(await trail(registry, seed.stage_ids[1])) == stage_entries + 1
        await assert_not_dead_lettered(registry, seed, StageFinalized.event_type)
        await assert_not_dead_lettered(registry, seed, StageResultsPublished.event_type)

    async def test_a_different_result_for_a_stage_not_reopened_is_refused_and_changes_nothing(
        self, registry: Registry
    ) -> None:
        seed = await finalised_stage(registry)
        await publish(registry.bootstrap, finalised(seed, CORRECTED, CORRECTED_RESULT))
        letter = await find_event(
            registry.bootstrap,
            Topic.REGISTRY_DLQ,
            StageFinalized.event_type,
            {"stage_id": str(seed.stage_ids[1])},
        )
        assert letter["data"]["advancing_team_ids"] == [str(seed.team_ids[lead]) for lead in CORRECTED]
        assert (await team_of(registry, seed, "Upstage"))["status"] == "advanced"

    async def test_a_correction_that_leaves_a_vacancy_opens_a_call_when_there_was_none(
        self, registry: Registry
    ) -> None:
        seed = await finalised_stage(registry, (*ADVANCING, "NC AI"), {"Naver Cloud": "rank"})
        await publish(registry.bootstrap, reopened(seed))
        await eventually_stage(registry, seed.stage_ids[1], "reopened")
        await publish(
            registry.bootstrap,
            finalised(seed, ADVANCING, {"NC AI": "benchmark-threshold", "Naver Cloud": "rank"}),
        )
        call = await eventually_call(registry, seed.programme_id)
        assert (call["status"], call["vacancies"]) == ("open", 1)
        assert str(seed.team_ids["NC AI"]) in {e["team_id"] for e in call["eligible"]}
        nc_ai = await team_of(registry, seed, "NC AI")
        assert (nc_ai["status"], nc_ai["elimination_reason"]) == ("eliminated", "benchmark-threshold")

    async def test_a_correction_that_fills_the_vacancy_keeps_the_open_call_with_a_note(
        self, registry: Registry
    ) -> None:
        seed, call = await finalised_with_a_call(registry)
        await publish(registry.bootstrap, reopened(seed))
        await eventually_stage(registry, seed.stage_ids[1], "reopened")
        await publish(registry.bootstrap, finalised(seed, (*ADVANCING, "Naver Cloud"), {"NC AI": "rank"}))
        await eventually_stage(registry, seed.stage_ids[1], "final")
        assert (await team_of(registry, seed, "Naver Cloud"))["status"] == "advanced"
        assert (await team_of(registry, seed, "NC AI"))["elimination_reason"] == "rank"
        kept = (
            await registry.client.get(f"/v1/selection-calls/{call['id']}", headers=registry.operator())
        ).json()
        assert (kept["status"], kept["vacancies"]) == ("open", 1)
        [note] = [
            e for e in await trail(registry, call["id"]) if e["action"] == "selection.vacancies-changed"
        ]
        assert (note["details"]["call_vacancies"], note["details"]["corrected_vacancies"]) == (1, 0)
