"""Deadline maths of a stage (pure): the objection window counted in days in Asia/Seoul."""

from __future__ import annotations

from datetime import datetime

from fmc_common.clock import as_utc
from fmc_common.deadlines import objection_window_closes


def objection_deadline(notification_at: datetime, objection_days: int) -> datetime:
    """End of the window, in Seoul time, by the rule grievance enforces (fmc_common.deadlines).

    Notified on 15 January (any hour, Seoul), 10 days -> objections until 26 January 00:00 KST,
    i.e. through the whole of 25 January: the day of notification is not counted.
    """
    return objection_window_closes(as_utc(notification_at), objection_days)
