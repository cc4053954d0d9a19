"""Waiting in background loops: until stopped, woken, or a timeout."""

from __future__ import annotations

import asyncio


async def wait_any(stop: asyncio.Event, wake: asyncio.Event, timeout: float | None) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
