"""Deadline maths of a stage (pure): the objection window counted in days in Asia/Seoul."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fmc_common.clock import SEOUL, as_utc


def objection_deadline(notification_at: datetime, objection_days: int) -> datetime:
    """End of the window, in Seoul time: the notification day counts as the first of the days.

    Notified on 15 January (any hour, Seoul), 10 days -> objections until 25 January 00:00 KST,
    i.e. through the whole of 24 January, as the ministry announced ("from today for 10 days").
    """
    if objection_days < 1:
        raise ValueError("objection_days must be at least 1")
    local_day = as_utc(notification_at).astimezone(SEOUL).date()
    return datetime.combine(local_day + timedelta(days=objection_days), time(0, 0), tzinfo=SEOUL)
