"""Rounds: a re-evaluated result that reverses a team's outcome notifies that team again with a fresh
window (the others keep theirs), the reopening of a final stage gives every team a fresh window, and
the decision's grievance phase closes again, with a new ``GrievanceWindowClosed``, once every window of
every round is closed and every objection decided. All from the real broker, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fmc_common.clock import SEOUL
from fmc_common.events.base import Event
from fmc_common.events.envelope import envelope_for
from fmc_common.events.scoring import PublishedTeamOutcome, StageReopened, StageResultsPublished
from fmc_common.events.topics import Topic
from grievance.harness import Grievance, grievance_events, of_type
from support.eventually import eventually
from support.kafka import produce_raw

PROGRAMME = uuid.uuid4()
V1_AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 10:00 in Seoul: windows end 11 December 24:00
V2_AT = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # a re-evaluation published: windows end 15 December
ROUND_1_OVER = datetime(2026, 12, 12, 0, 0, tzinfo=SEOUL)
ROUND_2_OVER = datetime(2026, 12, 16, 0, 0, tzinfo=SEOUL)
REASON = "The originality check read another team's weights; the verdict is withdrawn."

Outcomes = Sequence[tuple[uuid.UUID, str, str | None]]


def message(event: Event, at: datetime) -> bytes:
    envelope = envelope_for(
        event_type=event.event_type,
        source="/fmc/scoring",
        data=event.model_dump(mode="json"),
        time=at,
        subject=event.subject(),
        dataschema=None,
        correlation_id=None,
        causation_id=None,
    )
    return envelope.to_bytes()


def published(
    stage_id: uuid.UUID, outcomes: Outcomes, at: datetime, version: int = 1, days: int = 10
) -> bytes:
    event = StageResultsPublished(
        stage_id=stage_id,
        programme_id=PROGRAMME,
        published_at=at,
        objection_days=days,
        teams=[PublishedTeamOutcome(team_id=t, outcome=o, reason_code=r) for t, o, r in outcomes],
        version=version,
        corrects_version=version - 1 if version > 1 else None,
    )
    return message(event, at)


def reopened(stage_id: uuid.UUID, outcomes: Outcomes, at: datetime, reopening_id: uuid.UUID) -> bytes:
    event = StageReopened(
        reopening_id=reopening_id,
        stage_id=stage_id,
        programme_id=PROGRAMME,
        version=2,
        reason=REASON,
        reopened_by="operator-kim",
        reopened_at=at,
        objection_days=10,
        teams=[PublishedTeamOutcome(team_id=t, outcome=o, reason_code=r) for t, o, r in outcomes],
    )
    return message(event, at)


async def send(grievance: Grievance, broker: str, *messages: bytes) -> None:
    await produce_raw(broker, str(Topic.SCORING), list(messages), key=str(grievance.stage_id).encode())


async def notifications(grievance: Grievance, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"stage_id": str(grievance.stage_id), **filters}.items())
    response = await grievance.client.get(f"/v1/notifications?{query}", headers=grievance.operator())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def until_notified(grievance: Grievance, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = await notifications(grievance)
        return found if len(found) >= count else None

    return await eventually(enough, what=f"{count} notifications")


def of_team(items: list[dict[str, Any]], team: uuid.UUID) -> list[dict[str, Any]]:
    return sorted((n for n in items if n["team_id"] == str(team)), key=lambda n: n["round"])


class TestReversals:
    async def test_a_reversed_team_gets_a_new_notification_and_window_and_the_others_keep_theirs(
        self, grievance: Grievance, broker: str
    ) -> None:
        low, reversed_team, kept = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        v1 = [
            (low, "eliminated", "benchmark-threshold"),
            (reversed_team, "advanced", None),
            (kept, "advanced", None),
        ]
        v2 = [
            (low, "eliminated", "benchmark-threshold"),
            (reversed_team, "eliminated", "originality"),
            (kept, "advanced", None),
        ]
        await send(grievance, broker, published(grievance.stage_id, v1, V1_AT))
        await until_notified(grievance, 3)
        await send(grievance, broker, published(grievance.stage_id, v2, V2_AT, version=2))
        items = await until_notified(grievance, 4)

        assert len(of_team(items, low)) == len(of_team(items, kept)) == 1
        first, second = of_team(items, reversed_team)
        # The earlier notification is kept as it was, and names the one that replaced it.
        assert (first["outcome"], first["reason_code"], first["round"]) == ("advanced", None, 1)
        assert (first["current"], first["superseded_by_notification_id"]) == (False, second["id"])
        assert first["window"]["deadline"] == "2026-12-11T23:59:59+09:00"
        assert (second["outcome"], second["reason_code"]) == ("eliminated", "originality")
        assert (second["round"], second["result_version"], second["current"]) == (2, 2, True)
        assert second["supersedes_notification_id"] == first["id"]
        assert second["window"]["opens_at"] == "2026-12-05T10:00:00+09:00"
        assert second["window"]["deadline"] == "2026-12-15T23:59:59+09:00"

        # The team reads its own history; `current` gives the decision in force.
        own = await grievance.client.get(
            "/v1/notifications?current=true", headers=grievance.team(reversed_team)
        )
        [in_force] = own.json()["items"]
        assert (in_force["id"], in_force["outcome"]) == (second["id"], "eliminated")
        current = await notifications(grievance, current="true")
        assert sorted(n["team_id"] for n in current) == sorted(map(str, (low, reversed_team, kept)))

        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: len(of_type(found, "team-notified")) >= 4
        )
        notified = of_type(events, "team-notified")
        assert len(notified) == 4
        announced = notified[-1].data
        assert announced["notification_id"] == second["id"]
        assert announced["supersedes_notification_id"] == first["id"]
        assert (announced["round"], announced["result_version"]) == (2, 2)
        trail = await grievance.client.get(
            f"/v1/audit?entity_id={second['id']}", headers=grievance.operator()
        )
        [entry] = trail.json()["items"]
        assert entry["action"] == "notification.recorded"
        assert entry["details"]["supersedes"]["outcome"] == "advanced"
        assert entry["details"]["outcome"] == "eliminated"

    async def test_the_phase_waits_for_the_new_window_and_then_closes_once(
        self, grievance: Grievance, broker: str
    ) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        await send(
            grievance,
            broker,
            published(grievance.stage_id, [(a, "advanced", None), (b, "advanced", None)], V1_AT),
        )
        await until_notified(grievance, 2)
        v2 = [(a, "advanced", None), (b, "eliminated", "originality")]
        await send(grievance, broker, published(grievance.stage_id, v2, V2_AT, version=2))
        await until_notified(grievance, 3)

        grievance.clock.set(ROUND_1_OVER)  # the first windows are over; b's new one is not
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert (phase["windows"], phase["windows_closed"], phase["round"], phase["closed"]) == (
            3,
            2,
            2,
            False,
        )

        grievance.clock.set(ROUND_2_OVER)
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert (phase["windows_closed"], phase["closed"]) == (3, True)
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(of_type(found, "window-closed"))
        )
        [closing] = of_type(events, "window-closed")
        assert (closing.data["round"], closing.data["windows_closed"]) == (2, 3)
        assert closing.id == phase["event_id"]

    async def test_a_reversal_after_the_phase_closed_opens_a_new_round_that_closes_again(
        self, grievance: Grievance, broker: str
    ) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        v1 = [(a, "advanced", None), (b, "eliminated", "rank")]
        await send(grievance, broker, published(grievance.stage_id, v1, V1_AT))
        await until_notified(grievance, 2)
        grievance.clock.set(ROUND_1_OVER)
        await grievance.scheduler.run_once()
        first_closing = await grievance.phase()
        assert (first_closing["round"], first_closing["closed"]) == (1, True)

        # A re-evaluation approved after the closing: recorded (never dead-lettered) in a new round.
        approved_at = datetime(2026, 12, 14, 9, 0, tzinfo=SEOUL)
        v2 = [(a, "eliminated", "originality"), (b, "advanced", None)]
        await send(grievance, broker, published(grievance.stage_id, v2, approved_at, version=2))
        items = await until_notified(grievance, 4)
        assert {n["round"] for n in items if n["current"]} == {2}
        grievance.clock.set(datetime(2026, 12, 20, 0, 0, tzinfo=SEOUL))  # 24 December is the last day
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert (phase["round"], phase["closed"], phase["windows_closed"]) == (2, False, 2)

        grievance.clock.set(datetime(2026, 12, 25, 0, 0, tzinfo=SEOUL))
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert (phase["round"], phase["closed"]) == (2, True)
        assert phase["event_id"] != first_closing["event_id"]
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: len(of_type(found, "window-closed")) >= 2
        )
        assert [e.data["round"] for e in of_type(events, "window-closed")] == [1, 2]

    async def test_an_unchanged_republication_and_redeliveries_change_nothing(
        self, grievance: Grievance, broker: str
    ) -> None:
        a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        v1 = [(a, "advanced", None), (b, "advanced", None), (c, "advanced", None)]
        v2 = [(a, "eliminated", "originality"), (b, "advanced", None), (c, "advanced", None)]
        v3 = [(a, "eliminated", "originality"), (b, "advanced", None), (c, "eliminated", "rank")]
        v2_message = published(grievance.stage_id, v2, V2_AT, version=2)
        await send(grievance, broker, published(grievance.stage_id, v1, V1_AT), v2_message, v2_message)
        # A late copy of version 1 and a fresh envelope of version 2 come before version 3.
        later = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
        await send(
            grievance,
            broker,
            published(grievance.stage_id, v1, V1_AT),
            published(grievance.stage_id, v2, V2_AT, version=2),
            published(grievance.stage_id, v3, later, version=3),
        )
        items = await until_notified(grievance, 5)
        assert [len(of_team(items, t)) for t in (a, b, c)] == [2, 1, 2]
        assert of_team(items, c)[-1]["result_version"] == 3
        assert len(await notifications(grievance)) == 5


class TestReopening:
    async def test_a_reopened_stage_gives_every_team_a_window_and_closes_again(
        self, grievance: Grievance, broker: str
    ) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        outcomes = [(a, "advanced", None), (b, "eliminated", "originality")]
        await send(grievance, broker, published(grievance.stage_id, outcomes, V1_AT))
        await until_notified(grievance, 2)
        grievance.clock.set(ROUND_1_OVER)
        await grievance.scheduler.run_once()
        assert (await grievance.phase())["closed"] is True

        reopening_id = uuid.uuid4()
        reopened_at = datetime(2026, 12, 20, 10, 0, tzinfo=SEOUL)
        event = reopened(grievance.stage_id, outcomes, reopened_at, reopening_id)
        # Delivered twice, then again in a new envelope: one window per team all the same.
        await send(
            grievance, broker, event, event, reopened(grievance.stage_id, outcomes, reopened_at, reopening_id)
        )
        items = await until_notified(grievance, 4)
        fresh = [n for n in items if n["round"] == 2]
        assert sorted(n["team_id"] for n in fresh) == sorted(map(str, (a, b)))
        assert {n["reopening_id"] for n in fresh} == {str(reopening_id)}
        assert {n["window"]["deadline"] for n in fresh} == {"2026-12-30T23:59:59+09:00"}
        trail = await grievance.client.get(
            f"/v1/audit?entity_id={fresh[0]['id']}", headers=grievance.operator()
        )
        assert trail.json()["items"][0]["reason"] == REASON
        opened = await grievance.client.get(
            f"/v1/audit?entity_id={grievance.stage_id}", headers=grievance.operator()
        )
        rounds = [e for e in opened.json()["items"] if e["action"] == "decision.round-opened"]
        assert [(e["details"]["cause"], e["reason"]) for e in rounds] == [("reopening", REASON)]

        grievance.clock.set(datetime(2026, 12, 22, 9, 0, tzinfo=SEOUL))
        filed = await grievance.file(b, grounds="originality-judgement")
        assert filed.status_code == 201, filed.text
        assert filed.json()["window"]["deadline"] == "2026-12-30T23:59:59+09:00"
        grievance.clock.set(datetime(2026, 12, 31, 0, 0, tzinfo=SEOUL))
        await grievance.scheduler.run_once()
        assert (await grievance.phase())["closed"] is False  # the objection is undecided
        decided = await grievance.review_and_decide(
            filed.json()["id"], "rejected", "The check was run on the bound weights."
        )
        assert decided.status_code == 200, decided.text
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert (phase["round"], phase["closed"], phase["windows"], phase["windows_closed"]) == (2, True, 4, 4)
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: len(of_type(found, "window-closed")) >= 2
        )
        closings = of_type(events, "window-closed")
        assert [(e.data["round"], e.data["objections_total"]) for e in closings] == [(1, 0), (2, 1)]
        assert len(await notifications(grievance)) == 4


class TestFilingInRounds:
    async def test_an_objection_goes_to_the_latest_open_window_and_an_expired_one_is_refused(
        self, grievance: Grievance, broker: str
    ) -> None:
        kept, reversed_team = uuid.uuid4(), uuid.uuid4()
        v1 = [(kept, "advanced", None), (reversed_team, "advanced", None)]
        v2 = [(kept, "advanced", None), (reversed_team, "eliminated", "originality")]
        await send(grievance, broker, published(grievance.stage_id, v1, V1_AT))
        await send(grievance, broker, published(grievance.stage_id, v2, V2_AT, version=2))
        items = await until_notified(grievance, 3)
        latest = of_team(items, reversed_team)[-1]

        grievance.clock.set(datetime(2026, 12, 13, 9, 0, tzinfo=SEOUL))
        await grievance.scheduler.run_once()
        filed = await grievance.file(reversed_team, grounds="originality-judgement")
        assert filed.status_code == 201, filed.text
        objection = await grievance.client.get(
            f"/v1/objections/{filed.json()['id']}", headers=grievance.team(reversed_team)
        )
        assert objection.json()["window"]["deadline"] == "2026-12-15T23:59:59+09:00"
        late = await grievance.file(kept)
        assert late.status_code == 409
        assert late.json()["code"] == "objection-window-closed"
        assert late.json()["deadline"] == "2026-12-11T23:59:59+09:00"

        grievance.clock.set(ROUND_2_OVER)
        too_late = await grievance.file(reversed_team)
        assert too_late.status_code == 409
        assert too_late.json()["code"] == "objection-window-closed"
        assert too_late.json()["deadline"] == "2026-12-15T23:59:59+09:00"
        assert latest["round"] == 2


class TestOperatorNotices:
    async def test_an_operator_renotifying_a_changed_decision_opens_a_round_and_a_retry_changes_nothing(
        self, grievance: Grievance
    ) -> None:
        call_id, team = uuid.uuid4(), uuid.uuid4()

        async def notice(outcome: str) -> list[dict[str, Any]]:
            body = {
                "decision": {"kind": "selection-decision", "id": str(call_id)},
                "stage_id": str(grievance.stage_id),
                "teams": [{"team_id": str(team), "outcome": outcome}],
                "objection_days": 7,
            }
            response = await grievance.client.post(
                "/v1/notifications", json=body, headers=grievance.operator()
            )
            assert response.status_code == 201, response.text
            items: list[dict[str, Any]] = response.json()["items"]
            return items

        [first] = await notice("not-selected")
        assert [n["id"] for n in await notice("not-selected")] == [first["id"]]  # a retry
        grievance.clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=SEOUL))
        [second] = await notice("selected")
        assert (second["round"], second["supersedes_notification_id"]) == (2, first["id"])
        assert second["window"]["deadline"] == "2026-12-10T23:59:59+09:00"
        phase = await grievance.phase(call_id, kind="selection-decision")
        assert (phase["round"], phase["windows"]) == (2, 2)
