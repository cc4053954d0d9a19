"""The deadline rule, as pure functions (no web framework, no database).

A team notified at instant *t* may object from *t* until the end of the *N*-th day after the day of
notification, in Asia/Seoul (*N* is the stage's ``objection_days``, 10 by default). The day of
notification itself is not counted, as in Korean administrative practice: notified on 1 December at
any time of day, the last day is 11 December, and the window closes at 11 December 24:00 KST
(= 12 December 00:00:00 KST = 11 December 15:00:00 UTC). An instant *x* is inside the window when
``opens_at <= x < closes_at``: 23:59:59.999999 on the last day is inside, 00:00:00 on the next day
is not.

Asia/Seoul has had no daylight saving time since 1988, so every window closes at 15:00 UTC; the
computation still goes through the time zone database rather than a fixed offset, so that it stays
right if the rules ever change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from fmc_common.clock import SEOUL
from fmc_common.deadlines import objection_window_closes

DEFAULT_OBJECTION_DAYS = 10
MAX_OBJECTION_DAYS = 60
TIME_ZONE_NAME = "Asia/Seoul"

RULE = (
    "A team may object from the moment it is notified until the end of the N-th day after the day "
    "of notification (N = the stage's objection days, 10 by default), in Asia/Seoul: the window "
    "closes at 00:00:00 KST on the following day (exclusive)."
)


class WindowState(StrEnum):
    NOT_OPEN = "not-open"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class ObjectionWindow:
    """One team's window: ``opens_at <= now < closes_at``. Instants are aware and in UTC."""

    opens_at: datetime
    closes_at: datetime
    last_day: date
    objection_days: int
    zone: ZoneInfo = SEOUL

    def state(self, now: datetime) -> WindowState:
        _require_aware(now)
        if now < self.opens_at:
            return WindowState.NOT_OPEN
        if now < self.closes_at:
            return WindowState.OPEN
        return WindowState.CLOSED

    @property
    def time_zone(self) -> str:
        return str(self.zone.key)

    @property
    def deadline(self) -> datetime:
        """The last whole second of the window, in local time: ``<last day>T23:59:59+09:00``.

        What people read; the exact rule is ``now < closes_at``, so the whole last second counts.
        """
        return self.local(self.closes_at) - timedelta(seconds=1)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)


def window_for(
    notified_at: datetime, objection_days: int = DEFAULT_OBJECTION_DAYS, zone: ZoneInfo = SEOUL
) -> ObjectionWindow:
    """The window opened by a notification at ``notified_at`` (an aware instant)."""
    _require_aware(notified_at)
    if not 1 <= objection_days <= MAX_OBJECTION_DAYS:
        raise ValueError(f"objection_days must be 1 to {MAX_OBJECTION_DAYS}")
    closes_local = objection_window_closes(notified_at, objection_days, zone)
    last_day = closes_local.date() - timedelta(days=1)
    return ObjectionWindow(
        opens_at=notified_at.astimezone(UTC),
        closes_at=closes_local.astimezone(UTC),
        last_day=last_day,
        objection_days=objection_days,
        zone=zone,
    )


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("deadline maths needs aware datetimes")
