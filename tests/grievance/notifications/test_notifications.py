"""Notifications: published stage results notify every team (from the real broker), and the same
mechanism covers any other decision, such as a selection decision of the registry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fmc_common.clock import SEOUL
from fmc_common.events.envelope import envelope_for
from fmc_common.events.scoring import PublishedTeamOutcome, StageResultsPublished
from fmc_common.events.topics import Topic
from grievance.harness import Grievance, grievance_events, of_type
from support.eventually import eventually
from support.kafka import produce_raw

PUBLISHED_AT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 15:30 in Seoul


def published(stage_id: uuid.UUID, teams: list[uuid.UUID], days: int = 10) -> bytes:
    event = StageResultsPublished(
        stage_id=stage_id,
        programme_id=uuid.uuid4(),
        published_at=PUBLISHED_AT,
        objection_days=days,
        teams=[
            PublishedTeamOutcome(team_id=teams[0], outcome="eliminated", reason_code="benchmark-threshold"),
            *[PublishedTeamOutcome(team_id=t, outcome="advanced") for t in teams[1:]],
        ],
    )
    envelope = envelope_for(
        event_type=event.event_type,
        source="/fmc/scoring",
        data=event.model_dump(mode="json"),
        time=PUBLISHED_AT,
        subject=event.subject(),
        dataschema=None,
        correlation_id=None,
        causation_id=None,
    )
    return envelope.to_bytes()


class TestStageResultsPublished:
    async def test_every_team_is_notified_once_with_its_window(
        self, grievance: Grievance, broker: str
    ) -> None:
        teams = [uuid.uuid4() for _ in range(3)]
        message = published(grievance.stage_id, teams)
        key = str(grievance.stage_id).encode()
        # Delivered twice (a redelivery), then published again (a new event for the same stage).
        await produce_raw(broker, str(Topic.SCORING), [message, message], key=key)
        await produce_raw(broker, str(Topic.SCORING), [published(grievance.stage_id, teams)], key=key)
        path = f"/v1/notifications?stage_id={grievance.stage_id}"

        async def all_notified() -> bool:
            return len((await grievance.client.get(path, headers=grievance.operator())).json()["items"]) >= 3

        await eventually(all_notified)
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: len(of_type(found, "team-notified")) >= 3
        )
        assert len(of_type(events, "team-notified")) == 3
        items = (await grievance.client.get(path, headers=grievance.operator())).json()["items"]
        assert sorted(n["team_id"] for n in items) == sorted(map(str, teams))
        eliminated = next(n for n in items if n["team_id"] == str(teams[0]))
        assert eliminated["reason_code"] == "benchmark-threshold"
        assert eliminated["decision"] == {"kind": "stage-result", "id": str(grievance.stage_id)}
        assert datetime.fromisoformat(eliminated["notified_at"]) == PUBLISHED_AT
        assert eliminated["window"]["opens_at"] == "2026-12-01T15:30:00+09:00"
        assert eliminated["window"]["deadline"] == "2026-12-11T23:59:59+09:00"
        assert eliminated["window"]["time_zone"] == "Asia/Seoul"
        event = of_type(events, "team-notified")[0]
        assert event.data["time_zone"] == "Asia/Seoul"
        assert datetime.fromisoformat(event.data["deadline"]).utcoffset() == timedelta(hours=9)

    async def test_a_team_sees_only_its_own_notification(self, grievance: Grievance) -> None:
        mine, other = uuid.uuid4(), uuid.uuid4()
        notified = await grievance.notify([mine, other])
        listed = await grievance.client.get("/v1/notifications", headers=grievance.team(mine))
        assert [n["team_id"] for n in listed.json()["items"]] == [str(mine)]
        theirs = next(n for n in notified if n["team_id"] == str(other))
        response = await grievance.client.get(
            f"/v1/notifications/{theirs['id']}", headers=grievance.team(mine)
        )
        assert response.status_code == 403


class TestSelectionDecisions:
    async def test_an_objection_against_a_selection_decision_runs_the_same_course(
        self, grievance: Grievance, broker: str
    ) -> None:
        call_id, team = uuid.uuid4(), uuid.uuid4()
        await grievance.notify([team], kind="selection-decision", decision_id=call_id, days=7)
        filed = await grievance.file(team, kind="selection-decision", decision_id=call_id, grounds="other")
        assert filed.status_code == 201, filed.text
        assert filed.json()["decision"] == {"kind": "selection-decision", "id": str(call_id)}
        assert filed.json()["window"]["deadline"] == "2026-12-08T23:59:59+09:00"
        # Not notified of the stage's own result: nothing to object to there.
        assert (await grievance.file(team)).json()["code"] == "objection-window-not-open"

        grievance.clock.set(datetime(2026, 12, 9, 0, 0, tzinfo=SEOUL))
        rejected = await grievance.review_and_decide(
            filed.json()["id"], "rejected", "The call's rules were applied."
        )
        assert rejected.status_code == 200
        await grievance.scheduler.run_once()
        phase = await grievance.phase(call_id, kind="selection-decision")
        assert phase["closed"] is True
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(of_type(found, "window-closed"))
        )
        [closing] = of_type(events, "window-closed")
        assert closing.data["decision_kind"] == "selection-decision"
        assert closing.data["decision_id"] == str(call_id)
        assert closing.data["stage_id"] == str(grievance.stage_id)

    async def test_no_team_can_be_notified_once_the_phase_is_closed(self, grievance: Grievance) -> None:
        await grievance.notify([uuid.uuid4()])
        grievance.clock.set(datetime(2026, 12, 12, 0, 0, tzinfo=SEOUL))
        await grievance.scheduler.run_once()
        late = await grievance.client.post(
            "/v1/notifications",
            json={
                "decision": {"kind": "stage-result", "id": str(grievance.stage_id)},
                "stage_id": str(grievance.stage_id),
                "teams": [{"team_id": str(uuid.uuid4())}],
            },
            headers=grievance.operator(),
        )
        assert late.status_code == 409
        assert late.json()["code"] == "decision-already-closed"
