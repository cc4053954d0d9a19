"""Waiting for what happens in the background (consumers, relays, schedulers, a run being graded): one
polling helper for the tests (tests/support/eventually.py re-exports it) and the benches in bench/, which
import the dev runner but not the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | Literal[False] | None]],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "the condition",
    failure: Callable[[str], Exception] = AssertionError,
) -> T:
    """Await ``probe()`` until it gives something (not None, not False) and return that.

    A probe answers None or False while it waits; after ``timeout`` seconds ``failure`` (a test's
    AssertionError by default; the replay's own error there) is raised, naming ``what``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await probe()
        if found is not None and found is not False:
            return found
        if loop.time() > deadline:
            raise failure(f"{what} was not met within {timeout} s")
        await asyncio.sleep(interval)
