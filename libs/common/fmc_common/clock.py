"""One injectable clock. Everything stores UTC; deadlines are computed in Asia/Seoul elsewhere."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, the demo's time travel)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = when.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime read back from a database (SQLite drops the offset) to aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_delta(start: datetime, end: datetime) -> timedelta:
    return as_utc(end) - as_utc(start)


DEV_CLOCK_FILE_ENV = "FMC_DEV_CLOCK_FILE"


class ShiftedClock:
    """The system clock moved forward by an offset read from a file (development and demos only).

    The demo replays weeks of a stage in minutes: it writes an offset in seconds to the file named by
    FMC_DEV_CLOCK_FILE, and every service started with that variable sees the same moved time.
    Time never goes back: a smaller offset than one already seen is ignored.
    """

    def __init__(self, offset_file: Path) -> None:
        self._file = offset_file
        self._offset = 0.0

    def now(self) -> datetime:
        try:
            value = float(self._file.read_text().strip() or 0)
        except (OSError, ValueError):
            value = self._offset
        self._offset = max(self._offset, value)
        return datetime.now(UTC) + timedelta(seconds=self._offset)


def default_clock() -> Clock:
    """The system clock, or a shifted one where FMC_DEV_CLOCK_FILE is set (never in production)."""
    path = os.environ.get(DEV_CLOCK_FILE_ENV)
    return ShiftedClock(Path(path)) if path else SystemClock()
