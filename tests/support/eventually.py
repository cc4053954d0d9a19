"""Waiting for what happens in the background (consumers, relays, schedulers): one polling helper."""

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
) -> T:
    """Await ``probe()`` until it gives something (not None, not False) and return that.

    A probe answers None or False while it waits; after ``timeout`` seconds the test fails, naming ``what``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await probe()
        if found is not None and found is not False:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"{what} was not met within {timeout} s")
        await asyncio.sleep(interval)
