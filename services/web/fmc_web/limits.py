"""What keeps the public pages cheap and the anonymous arena fair (pure: no framework).

* ``voter_pseudonym``: an anonymous person is a random id in their (encrypted) session cookie; scoring
  sees only a keyed hash of it, so its records cannot be turned back into a cookie, and never an
  address.
* ``AddressLimiter``: anonymous battles per client address in a sliding minute, held in memory by a
  hash of the address (a person who clears the cookie for a fresh daily cap still meets this).
* ``TtlCache``: what every visitor may see (the schedule, a public result, which stages are public)
  kept a few seconds, so pages polled by many browsers cost the services one call per period.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

PSEUDONYM_HEX = 32


def voter_pseudonym(key: bytes, voter_id: str) -> str:
    """The anonymous voter as scoring knows them: HMAC-SHA256 of the session's random id (hex)."""
    return hmac.new(key, f"fmc-anonymous-voter:{voter_id}".encode(), hashlib.sha256).hexdigest()[
        :PSEUDONYM_HEX
    ]


def client_address(peer: str | None, forwarded_for: str | None, hops: int) -> str:
    """The client's address: the peer's, or with ``hops`` trusted proxies in front, the address the
    nearest untrusted hop gave in ``X-Forwarded-For`` (a client cannot choose it by adding entries
    on the left). Unknown: ``"unknown"`` (all such clients share one limit)."""
    if hops > 0 and forwarded_for:
        chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return peer or "unknown"


class AddressLimiter:
    """At most ``per_minute`` events per address in any 60 seconds (a sliding window).

    Memory stays bounded: addresses whose window has emptied are dropped as others arrive, and at
    most ``max_addresses`` are held (the oldest forgotten first)."""

    def __init__(
        self, per_minute: int, max_addresses: int = 100_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._per_minute = per_minute
        self._max = max_addresses
        self._now = now
        self._seen: dict[str, deque[float]] = {}

    @staticmethod
    def _key(address: str) -> str:
        return hashlib.sha256(f"fmc-address:{address}".encode()).hexdigest()[:24]

    def allow(self, address: str) -> bool:
        """Take one event for ``address``; False (nothing taken) when it is at the limit."""
        now = self._now()
        key = self._key(address)
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - 60.0:
            times.popleft()
        allowed = len(times) < self._per_minute
        if allowed:
            times.append(now)
        if times:
            self._seen[key] = times  # re-inserted last: the dict's order is the least recently seen first
        self._forget(now)
        return allowed

    def _forget(self, now: float) -> None:
        for key in list(self._seen)[:8]:  # a few of the least recently seen per call: amortised
            if self._seen[key][-1] <= now - 60.0:
                del self._seen[key]
        while len(self._seen) > self._max:
            del self._seen[next(iter(self._seen))]


class TtlCache:
    """Values kept ``seconds`` after they were loaded; concurrent misses of one key load it once.
    ``seconds`` 0 keeps nothing (every call loads)."""

    def __init__(
        self, seconds: float, now: Callable[[], float] = time.monotonic, max_entries: int = 1000
    ) -> None:
        self._seconds = seconds
        self._now = now
        self._max = max_entries
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        found = self._values.get(key)
        if found is not None and found[0] > self._now():
            return True, found[1]
        return False, None

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        if self._seconds <= 0:
            return await load()
        hit, value = self._fresh(key)
        if hit:
            return value  # type: ignore[no-any-return]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit, value = self._fresh(key)
            if hit:
                return value  # type: ignore[no-any-return]
            loaded = await load()
            if len(self._values) >= self._max:
                self._values.clear()  # a rare flood of keys: start again rather than grow
                self._locks = {key: lock}
            self._values[key] = (self._now() + self._seconds, loaded)
            return loaded
