"""Final means final: a final stage refuses new versions; an operator reopens it with a reason
(announced, every team told); a closing of the windows while a corrected version awaits approval is
pending until that approval; two approvals at once give one winner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from fmc_common.events.grievance import GrievanceWindowClosed, ReEvaluationConcern, ReEvaluationRequested
from fmc_common.events.topics import Topic
from fmc_scoring.results import lifecycle
from fmc_scoring.results.models import Cause, StageFinality, StageFinalization
from fmc_scoring.results.originality_gate import LatestCheckVerdicts
from fmc_scoring.results.service import propose_result
from scoring.harness import (
    FIVE_TEAM_OBJECTION_DAYS,
    Scoring,
    StageWorld,
    add_originality,
    body,
    by_name,
    five_team_stage,
    publish,
    stage_events,
    watch_topic,
)
from support.eventually import eventually

pytestmark = pytest.mark.broker

REASON = "the originality check of Naver Cloud ran on another team's weights"


async def published_stage(scoring: Scoring) -> StageWorld:
    """The five-team stage with version 1 proposed and approved."""
    world = await five_team_stage(scoring)
    await body(
        await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
    )
    await body(
        await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/1/approval", headers=scoring.operator()
        )
    )
    return world


async def close_windows(scoring: Scoring, world: StageWorld, closed_at: datetime | None = None) -> None:
    """Grievance's closing of every window of the stage, handled as its consumer handles it."""
    async with scoring.ctx() as ctx:
        await lifecycle.finalize(
            ctx,
            GrievanceWindowClosed(
                stage_id=world.stage_id,
                decision_id=world.stage_id,
                windows_closed=5,
                objections_total=0,
                objections_accepted=0,
                closed_at=closed_at or datetime.now(UTC),
            ),
        )


async def final_stage(scoring: Scoring) -> StageWorld:
    world = await published_stage(scoring)
    await close_windows(scoring, world)
    return world


async def reopen(scoring: Scoring, world: StageWorld, **headers: str) -> Any:
    return await scoring.client.post(
        f"/v1/stages/{world.stage_id}/results/reopen",
        json={"reason": REASON},
        headers=scoring.operator() | headers,
    )


async def public(scoring: Scoring, world: StageWorld) -> Any:
    return await body(await scoring.client.get(f"/v1/public/stages/{world.stage_id}/results"))


async def event_of(
    scoring: Scoring, topic: Topic, world: StageWorld, kind: str, **fields: Any
) -> dict[str, Any]:
    """The first event of the kind about the stage with these fields (waits until it arrives)."""

    def found(envelopes: list[dict[str, Any]]) -> dict[str, Any] | None:
        for envelope in envelopes:
            data = {"type": envelope.get("type"), **envelope["data"]}
            wanted = {"type": kind, "stage_id": str(world.stage_id), **fields}
            if all(data.get(k) == v for k, v in wanted.items()):
                return dict(envelope["data"])
        return None

    return await watch_topic(scoring.bootstrap, str(topic), found)


def problem(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


class TestFinalMeansFinal:
    async def test_a_final_stage_refuses_a_new_proposal(self, scoring: Scoring) -> None:
        world = await final_stage(scoring)
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()
        )
        assert problem(response) == (409, "stage-final")
        versions = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator())
        )
        assert [v["version"] for v in versions] == [1]

    async def test_a_version_proposed_before_the_stage_became_final_cannot_be_approved_after(
        self, scoring: Scoring
    ) -> None:
        world = await published_stage(scoring)
        await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        await close_windows(scoring, world)  # an operator's revision does not hold the finalisation up
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/2/approval", headers=scoring.operator()
        )
        assert problem(response) == (409, "stage-final")
        result = await public(scoring, world)
        assert (result["final"], result["version"], result["corrects_version"]) == (True, 1, None)

    async def test_the_public_result_and_the_public_topic_say_the_stage_is_final(
        self, scoring: Scoring
    ) -> None:
        world = await final_stage(scoring)
        assert (await public(scoring, world))["final"] is True
        events = await stage_events(scoring, Topic.PUBLIC, world, {"fmc.scoring.stage-final-announced.v1"})
        assert set(events["fmc.scoring.stage-final-announced.v1"]) == {"stage_id", "version", "announced_at"}
        assert events["fmc.scoring.stage-final-announced.v1"]["version"] == 1

    async def test_a_re_evaluation_requested_for_a_final_stage_is_refused_and_audited(
        self, scoring: Scoring
    ) -> None:
        world = await final_stage(scoring)
        request_id = uuid.uuid4()
        await publish(
            scoring.bootstrap,
            ReEvaluationRequested(
                stage_id=world.stage_id,
                decision_id=world.stage_id,
                request_id=request_id,
                objection_id=uuid.uuid4(),
                team_id=world.teams["NC AI"],
                concerns=[ReEvaluationConcern.BENCHMARK_SUITE],
                reason="the grading of suite demo-ko-general-mcq is disputed",
                requested_at=datetime.now(UTC),
            ),
        )

        async def refusal() -> list[Any] | None:
            page = await body(
                await scoring.client.get(
                    "/v1/audit", params={"entity_id": str(request_id)}, headers=scoring.operator()
                )
            )
            return page["items"] or None

        (entry,) = await eventually(refusal)
        assert (entry["action"], entry["details"]["refusal"]) == (
            "result.re-evaluation-refused",
            "stage-final",
        )
        assert entry["details"]["team_id"] == str(world.teams["NC AI"])
        versions = await body(
            await scoring.client.get(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator())
        )
        assert [v["version"] for v in versions] == [1]


class TestReopening:
    async def test_a_stage_that_is_not_final_cannot_be_reopened(self, scoring: Scoring) -> None:
        world = await published_stage(scoring)
        assert problem(await reopen(scoring, world)) == (409, "stage-not-final")

    async def test_only_an_operator_reopens_a_stage(self, scoring: Scoring) -> None:
        world = await final_stage(scoring)
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/reopen",
            json={"reason": REASON},
            headers=scoring.as_team(world.teams["Naver Cloud"]),
        )
        assert response.status_code == 403

    async def test_a_reopening_needs_a_reason(self, scoring: Scoring) -> None:
        world = await final_stage(scoring)
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results/reopen", json={"reason": ""}, headers=scoring.operator()
        )
        assert response.status_code == 422

    async def test_reopening_tells_every_team_and_announces_it_without_the_reason(
        self, scoring: Scoring
    ) -> None:
        world = await final_stage(scoring)
        reopening = await body(await reopen(scoring, world), 201)
        assert (reopening["version"], reopening["reason"], reopening["reopened_by"]) == (
            1,
            REASON,
            "operator-kim",
        )

        internal = await stage_events(scoring, Topic.SCORING, world, {"fmc.scoring.stage-reopened.v1"})
        told = internal["fmc.scoring.stage-reopened.v1"]
        assert (told["reopening_id"], told["reason"]) == (reopening["reopening_id"], REASON)
        assert told["objection_days"] == FIVE_TEAM_OBJECTION_DAYS
        assert {t["team_id"] for t in told["teams"]} == {str(t) for t in world.teams.values()}
        announced = await stage_events(
            scoring, Topic.PUBLIC, world, {"fmc.scoring.stage-reopened-announced.v1"}
        )
        assert set(announced["fmc.scoring.stage-reopened-announced.v1"]) == {
            "stage_id",
            "version",
            "announced_at",
        }
        assert (await public(scoring, world))["final"] is False

        audit = await body(
            await scoring.client.get(
                "/v1/audit",
                params={"entity_id": (await public_result_id(scoring, world))},
                headers=scoring.operator(),
            )
        )
        reopened = [e for e in audit["items"] if e["action"] == "result.reopened"]
        assert [(e["reason"], e["actor_subject"]) for e in reopened] == [(REASON, "operator-kim")]

    async def test_a_closing_from_before_the_reopening_does_not_make_the_stage_final_again(
        self, scoring: Scoring
    ) -> None:
        world = await final_stage(scoring)
        before = datetime.now(UTC)
        await body(await reopen(scoring, world), 201)
        await close_windows(scoring, world, closed_at=before)  # a replayed letter of the first round
        assert (await public(scoring, world))["final"] is False
        response = await scoring.client.post(
            f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()
        )
        assert response.status_code == 201

    async def test_the_same_idempotency_key_reopens_once(self, scoring: Scoring) -> None:
        world = await final_stage(scoring)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await body(await reopen(scoring, world, **key), 201)
        again = await body(await reopen(scoring, world, **key), 201)
        assert again == first

    async def test_a_reopened_stage_takes_a_correction_and_is_final_again_when_the_new_windows_close(
        self, scoring: Scoring
    ) -> None:
        world = await final_stage(scoring)
        await body(await reopen(scoring, world), 201)
        # The correction: Naver Cloud's weights are original after all.
        await add_originality(scoring, world, world.teams["Naver Cloud"], "original")
        proposed = await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        assert (proposed["version"], proposed["cause"]) == (2, "reopening")
        approved = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/2/approval", headers=scoring.operator()
            )
        )
        assert (approved["corrects_version"], approved["correction"]) == (1, "reopening")
        assert by_name(approved)["Naver Cloud"]["reason"] != "originality"

        correction = await event_of(
            scoring, Topic.PUBLIC, world, "fmc.scoring.stage-result-announced.v1", version=2
        )
        assert (correction["version"], correction["corrects_version"], correction["correction"]) == (
            2,
            1,
            "reopening",
        )
        published = await event_of(
            scoring, Topic.SCORING, world, "fmc.scoring.stage-results-published.v1", version=2
        )
        assert published["corrects_version"] == 1

        await close_windows(scoring, world)
        result = await public(scoring, world)
        assert (result["final"], result["version"], result["corrects_version"], result["correction"]) == (
            True,
            2,
            1,
            "reopening",
        )
        async with scoring.runtime.sessions() as session:
            finalizations = list(
                await session.scalars(
                    select(StageFinalization)
                    .where(StageFinalization.stage_id == world.stage_id)
                    .order_by(StageFinalization.finalized_at)
                )
            )
        assert [f.version for f in finalizations] == [1, 2]
        assert finalizations[0].reopening_id is None
        assert finalizations[1].reopening_id is not None


async def public_result_id(scoring: Scoring, world: StageWorld) -> str:
    versions = await body(
        await scoring.client.get(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator())
    )
    return str(versions[-1]["result_id"])


class TestPendingFinalisation:
    async def test_windows_closing_while_a_re_evaluated_version_awaits_approval_finalise_on_its_approval(
        self, scoring: Scoring
    ) -> None:
        world = await published_stage(scoring)
        async with scoring.ctx() as ctx:
            awaiting = await propose_result(
                ctx,
                world.stage_id,
                LatestCheckVerdicts(),
                200,
                cause=Cause.RE_EVALUATION,
                cause_id=uuid.uuid4(),
                reason="an accepted objection whose version has open questions",
            )
        await close_windows(scoring, world)  # no exception, no dead letter: pending
        assert (await public(scoring, world))["final"] is False
        async with scoring.runtime.sessions() as session:
            state = await session.get(StageFinality, world.stage_id)
            assert state is not None
            assert state.pending_since is not None
            assert not state.final

        approved = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/{awaiting.version}/approval", headers=scoring.operator()
            )
        )
        assert approved["stage_final"] is True
        result = await public(scoring, world)
        assert (result["final"], result["version"], result["correction"]) == (True, 2, "re-evaluation")
        finalized = await stage_events(scoring, Topic.SCORING, world, {"fmc.scoring.stage-finalized.v1"})
        assert finalized["fmc.scoring.stage-finalized.v1"]["stage_id"] == str(world.stage_id)
        audit = await body(
            await scoring.client.get(
                "/v1/audit", params={"entity_id": str(awaiting.id)}, headers=scoring.operator()
            )
        )
        actions = [e["action"] for e in audit["items"]]
        assert actions == [
            "result.proposed",
            "result.finalization-pending",
            "result.approved",
            "result.finalized",
        ]

    async def test_a_pending_version_that_reverses_a_team_waits_for_the_new_round_of_windows(
        self, scoring: Scoring
    ) -> None:
        world = await published_stage(scoring)
        naver = world.teams["Naver Cloud"]
        # The accepted objection's correction: Naver Cloud's weights are original after all.
        await add_originality(scoring, world, naver, "original")
        async with scoring.ctx() as ctx:
            awaiting = await propose_result(
                ctx,
                world.stage_id,
                LatestCheckVerdicts(),
                200,
                cause=Cause.RE_EVALUATION,
                cause_id=uuid.uuid4(),
                reason="an accepted objection on Naver Cloud's originality check",
            )
        first_closing = datetime.now(UTC)
        await close_windows(scoring, world, closed_at=first_closing)
        async with scoring.runtime.sessions() as session:
            state = await session.get(StageFinality, world.stage_id)
            assert state is not None
            assert state.pending_since is not None

        approved = await body(
            await scoring.client.post(
                f"/v1/stages/{world.stage_id}/results/{awaiting.version}/approval", headers=scoring.operator()
            )
        )
        assert approved["stage_final"] is False
        assert by_name(approved)["Naver Cloud"]["reason"] != "originality"
        result = await public(scoring, world)
        assert (result["final"], result["version"]) == (False, 2)
        async with scoring.runtime.sessions() as session:
            state = await session.get(StageFinality, world.stage_id)
            assert state is not None
            assert (state.pending_since, state.final) == (None, False)
        audit = await body(
            await scoring.client.get(
                "/v1/audit", params={"entity_id": str(awaiting.id)}, headers=scoring.operator()
            )
        )
        waits = [e for e in audit["items"] if e["action"] == "result.finalization-awaits-new-windows"]
        assert len(waits) == 1
        assert str(naver) in waits[0]["details"]["reversed_team_ids"]
        assert "result.finalized" not in {e["action"] for e in audit["items"]}

        # Grievance's new round for the reversed teams closes: the stage is final, with version 2.
        await close_windows(scoring, world, closed_at=datetime.now(UTC))
        result = await public(scoring, world)
        assert (result["final"], result["version"], result["correction"]) == (True, 2, "re-evaluation")
        async with scoring.runtime.sessions() as session:
            finalizations = list(
                await session.scalars(
                    select(StageFinalization).where(StageFinalization.stage_id == world.stage_id)
                )
            )
        assert [f.version for f in finalizations] == [2]


class TestConcurrentApprovals:
    async def test_two_approvals_at_once_give_one_winner_and_a_clear_conflict(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=scoring.operator()), 201
        )
        url = f"/v1/stages/{world.stage_id}/results/1/approval"
        responses = await asyncio.gather(
            *(scoring.client.post(url, headers=scoring.operator()) for _ in range(2))
        )
        outcomes = sorted((r.status_code, r.json().get("code", "")) for r in responses)
        assert outcomes == [(200, ""), (409, "result-not-proposed")]
        published = await stage_events(
            scoring, Topic.SCORING, world, {"fmc.scoring.stage-results-published.v1"}
        )
        assert published["fmc.scoring.stage-results-published.v1"]["version"] == 1
