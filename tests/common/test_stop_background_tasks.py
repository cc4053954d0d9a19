"""The second half of a graceful stop, shared by the service runtime and the gateway's run engine: wait
for the tasks told to stop, cancel what outlives the grace, and report the ones that crashed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from fmc_common.runtime import stop_background_tasks


async def _finishes() -> None:
    await asyncio.sleep(0)


async def _crashes() -> None:
    raise RuntimeError("broken loop")


async def _ignores_the_stop() -> None:
    await asyncio.Event().wait()


async def test_finished_tasks_pass_a_crash_is_logged_and_a_straggler_is_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    finishes = asyncio.create_task(_finishes())
    crashes = asyncio.create_task(_crashes())
    straggler = asyncio.create_task(_ignores_the_stop())
    with caplog.at_level(logging.ERROR, logger="fmc_common.runtime"):
        await stop_background_tasks([finishes, crashes, straggler], 0.2, "background task failed")
    await asyncio.sleep(0)  # let the cancellation land
    assert finishes.done()
    assert not finishes.cancelled()
    assert straggler.cancelled()
    [record] = [r for r in caplog.records if r.getMessage() == "background task failed"]
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "broken loop"


async def test_no_tasks_is_nothing_to_wait_for() -> None:
    await stop_background_tasks([], 5.0, "unused")
