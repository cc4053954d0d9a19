"""The objection deadline rule, once for every service that states or enforces it (pure).

A team notified at any time of day may object until the end of the N-th day after the day of
notification, in Asia/Seoul: the day of notification itself is not counted (as Korean
administrative practice counts periods in days). Notified on 15 January, 10 days: objections run
through 25 January and the window closes at 26 January 00:00:00 KST (exclusive). Grievance enforces
it (fmc_grievance.windows.deadline); the registry shows it on a stage's schedule.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fmc_common.clock import SEOUL


def objection_window_closes(notified_at: datetime, objection_days: int, zone: ZoneInfo = SEOUL) -> datetime:
    """The first instant after the window, as midnight local time in ``zone``: ``now < closes`` is open."""
    if notified_at.tzinfo is None or notified_at.utcoffset() is None:
        raise ValueError("deadline maths needs aware datetimes")
    if objection_days < 1:
        raise ValueError("objection_days must be at least 1")
    last_day = notified_at.astimezone(zone).date() + timedelta(days=objection_days)
    return datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=zone)
