"""How a window is shown: every instant with the Asia/Seoul offset, and the time zone by name."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from fmc_grievance.windows.deadline import RULE, ObjectionWindow, WindowState


class WindowOut(BaseModel):
    """A team's objection window. Filing is possible while ``opens_at <= now < closes_at``."""

    opens_at: datetime = Field(description="The notification time, in Asia/Seoul")
    deadline: datetime = Field(
        description="Last second of the window, in Asia/Seoul (e.g. 2026-12-11T23:59:59+09:00)"
    )
    closes_at: datetime = Field(description="First instant after the window (exclusive), in Asia/Seoul")
    last_day: date = Field(description="The last day on which an objection may be filed, in Asia/Seoul")
    time_zone: str = Field(examples=["Asia/Seoul"])
    objection_days: int
    state: WindowState = Field(description="At the time of this response")
    rule: str = Field(default=RULE)

    @classmethod
    def of(cls, window: ObjectionWindow, now: datetime) -> WindowOut:
        return cls(
            opens_at=window.local(window.opens_at),
            deadline=window.deadline,
            closes_at=window.local(window.closes_at),
            last_day=window.last_day,
            time_zone=window.time_zone,
            objection_days=window.objection_days,
            state=window.state(now),
        )


def deadline_fields(window: ObjectionWindow) -> dict[str, str]:
    """What a problem body says about a window (problem+json extension members)."""
    return {
        "opens_at": window.local(window.opens_at).isoformat(),
        "deadline": window.deadline.isoformat(),
        "closes_at": window.local(window.closes_at).isoformat(),
        "last_day": window.last_day.isoformat(),
        "time_zone": window.time_zone,
    }
