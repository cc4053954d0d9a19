"""Closing: windows close at their deadlines on the injected clock; a decision's grievance phase closes
(``GrievanceWindowClosed``) only when every window is closed and every objection decided — once, even
across restarts and concurrent runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from fmc_common.clock import SEOUL
from fmc_common.events.envelope import Envelope
from fmc_grievance.closing.scheduler import ClosingScheduler
from grievance.harness import (
    NOTIFIED_AT,
    Grievance,
    GrievanceDeployment,
    grievance_events,
    of_type,
)
from support.eventually import eventually

LAST_SECOND = datetime(2026, 12, 11, 23, 59, 59, tzinfo=SEOUL)
NEXT_MIDNIGHT = datetime(2026, 12, 12, 0, 0, 0, tzinfo=SEOUL)
REASON = "The run used decoding parameters other than those agreed."


def closed_events(found: list[Envelope]) -> list[Envelope]:
    return of_type(found, "window-closed")


class TestWindowsClose:
    async def test_nothing_closes_at_the_last_second_and_everything_at_midnight(
        self, grievance: Grievance, broker: str
    ) -> None:
        teams = [uuid.uuid4(), uuid.uuid4()]
        await grievance.notify(teams)
        grievance.clock.set(LAST_SECOND)
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert (phase["windows"], phase["windows_closed"], phase["closed"]) == (2, 0, False)

        grievance.clock.set(NEXT_MIDNIGHT)

        async def closed() -> bool:
            return bool((await grievance.phase())["closed"])

        await eventually(closed)
        phase = await grievance.phase()
        assert phase["windows_closed"] == 2
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(closed_events(found))
        )
        [event] = closed_events(events)
        assert event.data["stage_id"] == str(grievance.stage_id)
        assert event.data["windows_closed"] == 2
        assert event.data["objections_total"] == 0
        assert event.id == phase["event_id"]
        listed = await grievance.client.get(
            f"/v1/notifications?stage_id={grievance.stage_id}", headers=grievance.operator()
        )
        assert [n["window_closed"] for n in listed.json()["items"]] == [True, True]


class TestFinalisationWaitsForDecisions:
    async def test_the_phase_stays_open_until_the_last_objection_is_decided_and_re_evaluation_comes_first(
        self, grievance: Grievance, broker: str
    ) -> None:
        objecting, silent = uuid.uuid4(), uuid.uuid4()
        await grievance.notify([objecting, silent])
        objection = (await grievance.file(objecting, grounds="process-defect")).json()["id"]
        grievance.clock.set(NEXT_MIDNIGHT + timedelta(days=3))
        await grievance.scheduler.run_once()
        phase = await grievance.phase()
        assert phase["windows_closed"] == 2
        assert phase["closed"] is False  # the objection is still undecided
        assert phase["objections_by_status"] == {"received": 1}

        decided = await grievance.review_and_decide(objection, "accepted", REASON)
        assert decided.status_code == 200, decided.text
        request_id = decided.json()["resolution"]["re_evaluation"]["request_id"]
        await grievance.scheduler.run_once()
        assert (await grievance.phase())["closed"] is True

        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(closed_events(found))
        )
        [closing] = closed_events(events)
        assert closing.data["objections_total"] == 1
        assert closing.data["objections_accepted"] == 1
        assert closing.data["re_evaluation_request_ids"] == [request_id]
        # On the stage's partition, scoring sees the re-evaluation request before the closing.
        types = [e.type for e in events]
        assert types.index("fmc.grievance.re-evaluation-requested.v1") < types.index(closing.type)


class TestOnce:
    async def test_concurrent_runs_close_each_window_once(self, grievance: Grievance, broker: str) -> None:
        notifications = await grievance.notify([uuid.uuid4() for _ in range(5)])
        grievance.clock.set(NEXT_MIDNIGHT)
        runtime = grievance.app.state.runtime
        schedulers = [ClosingScheduler(runtime, 60) for _ in range(4)]
        await asyncio.gather(*(s.run_once() for s in schedulers), grievance.scheduler.run_once())
        await grievance.scheduler.run_once()
        for notification in notifications:
            trail = await grievance.client.get(
                f"/v1/audit?entity_id={notification['id']}", headers=grievance.operator()
            )
            actions = [e["action"] for e in trail.json()["items"]]
            assert actions == ["notification.recorded", "window.closed"]
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(closed_events(found))
        )
        assert len(closed_events(events)) == 1


class TestRestart:
    async def test_a_restart_across_a_deadline_neither_skips_nor_repeats_a_closing(
        self, deployment: GrievanceDeployment, broker: str
    ) -> None:
        early_stage, late_stage = uuid.uuid4(), uuid.uuid4()
        async with deployment.running() as first:
            early, late = first.for_new_stage(early_stage), first.for_new_stage(late_stage)
            await early.notify([uuid.uuid4(), uuid.uuid4()], notified_at=NOTIFIED_AT)
            await late.notify([uuid.uuid4()], notified_at=NOTIFIED_AT + timedelta(days=1))
            first.clock.set(NEXT_MIDNIGHT)  # past the early stage's deadline, before the late one's
            await first.scheduler.run_once()
            assert (await early.phase())["closed"] is True
            assert (await late.phase())["windows_closed"] == 0
        # Down over the late stage's deadline: nothing runs at that midnight.
        deployment.clock.set(NEXT_MIDNIGHT + timedelta(days=1, hours=5))
        async with deployment.running() as second:
            late = second.for_new_stage(late_stage)

            async def closed() -> bool:
                return bool((await late.phase())["closed"])

            await eventually(closed)
            for _ in range(3):
                run = await second.scheduler.run_once()
                assert (run.windows_closed, run.decisions_closed) == (0, [])
            assert (await second.for_new_stage(early_stage).phase())["windows_closed"] == 2
        for stage in (early_stage, late_stage):
            events = await grievance_events(broker, stage, until=lambda found: bool(closed_events(found)))
            assert len(closed_events(events)) == 1, stage
