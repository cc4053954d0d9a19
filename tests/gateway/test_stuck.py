"""A run that makes no progress for the configured time (by the injectable clock) is flagged stuck,
with what it waits on; the flag is an event and shows on the run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.clock import ManualClock
from fmc_common.events.envelope import Envelope
from fmc_common.settings import AuthSettings, KafkaSettings
from gateway.conftest import SettingsFactory
from gateway.helpers import of_type, request_run, run_body, run_events, wait_for_run, write_items
from support.databases import DatabaseFactory

pytestmark = [pytest.mark.broker]


def flagged(times: int) -> Callable[[list[Envelope]], bool]:
    return lambda found: len(of_type(found, "inference-run-stuck")) >= times


class TestStuckRuns:
    async def test_a_run_without_progress_is_flagged_stuck_once_with_what_it_waits_on(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
        nowhere: str,
    ) -> None:
        clock = ManualClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
        settings = gateway_settings(await database_factory.create("gateway"), stuck_after_seconds=600)
        gateway: httpx.AsyncClient = await gateway_factory(settings, clock)
        items, _ = write_items(tmp_path, 3)
        run = await request_run(gateway, auth_settings, run_body(items, 3, nowhere))
        waiting = await wait_for_run(gateway, auth_settings, run["id"], lambda r: r["status"] == "waiting")
        assert waiting["stuck_since"] is None

        clock.advance(timedelta(seconds=599))
        await wait_for_run(gateway, auth_settings, run["id"], lambda r: True)
        clock.advance(timedelta(seconds=2))
        stuck = await wait_for_run(gateway, auth_settings, run["id"], lambda r: r["stuck_since"] is not None)

        assert datetime.fromisoformat(stuck["stuck_since"]) == clock.now()
        assert stuck["status"] == "waiting"
        events = await run_events(
            kafka_settings.bootstrap_servers,
            run["id"],
            lambda found: bool(of_type(found, "inference-run-stuck")),
        )
        [event] = of_type(events, "inference-run-stuck")
        assert event.data["waiting_on"].startswith(
            f"readiness check: Triton at {nowhere} (grpc) did not answer"
        )
        assert event.data["answered"] == 0
        assert event.data["total"] == 3
        clock.advance(timedelta(hours=1))  # still stuck: flagged once per episode, not again
        events = await run_events(
            kafka_settings.bootstrap_servers,
            run["id"],
            lambda found: len(of_type(found, "inference-run-stuck")) > 1,
            timeout=2,
        )
        assert len(of_type(events, "inference-run-stuck")) == 1
