"""The deadline rule: worked examples and hypothesis properties (pure logic, no services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_common.clock import SEOUL
from fmc_grievance.windows.deadline import MAX_OBJECTION_DAYS, WindowState, window_for

TICK = timedelta(microseconds=1)
# Seoul has kept +09:00 all year since 1988; the properties cover well beyond any competition.
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)
days = st.integers(min_value=1, max_value=MAX_OBJECTION_DAYS)


class TestWorkedExamples:
    def test_notified_in_the_morning_closes_at_midnight_after_the_tenth_day(self) -> None:
        window = window_for(datetime(2026, 12, 1, 10, 30, tzinfo=SEOUL))
        assert window.last_day == date(2026, 12, 11)
        assert window.closes_at == datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
        assert window.deadline.isoformat() == "2026-12-11T23:59:59+09:00"
        assert window.time_zone == "Asia/Seoul"

    def test_a_late_evening_notification_in_utc_counts_from_the_seoul_day(self) -> None:
        # 1 December 20:00 UTC is already 2 December 05:00 in Seoul.
        window = window_for(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
        assert window.last_day == date(2026, 12, 12)

    def test_the_last_second_is_inside_and_midnight_is_outside(self) -> None:
        window = window_for(datetime(2026, 12, 1, 9, 0, tzinfo=SEOUL))
        assert window.state(datetime(2026, 12, 11, 23, 59, 59, tzinfo=SEOUL)) == WindowState.OPEN
        assert window.state(datetime(2026, 12, 12, 0, 0, 0, tzinfo=SEOUL)) == WindowState.CLOSED

    def test_a_per_stage_setting_changes_the_number_of_days(self) -> None:
        window = window_for(datetime(2026, 12, 1, 9, 0, tzinfo=SEOUL), objection_days=3)
        assert window.last_day == date(2026, 12, 4)

    @pytest.mark.parametrize("objection_days", [0, MAX_OBJECTION_DAYS + 1])
    def test_out_of_range_days_are_refused(self, objection_days: int) -> None:
        with pytest.raises(ValueError, match="objection_days"):
            window_for(datetime(2026, 12, 1, tzinfo=UTC), objection_days)

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            window_for(datetime(2026, 12, 1))
        with pytest.raises(ValueError, match="aware"):
            window_for(datetime(2026, 12, 1, tzinfo=UTC)).state(datetime(2026, 12, 2))


class TestProperties:
    @given(instants, days)
    def test_every_window_closes_at_midnight_seoul_which_is_always_15_utc(
        self, notified_at: datetime, objection_days: int
    ) -> None:
        window = window_for(notified_at, objection_days)
        local = window.closes_at.astimezone(SEOUL)
        assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
        assert local.utcoffset() == timedelta(hours=9)  # no daylight saving time
        assert window.closes_at.astimezone(UTC).hour == 15
        assert window.closes_at.tzinfo is not None

    @given(instants, days)
    def test_end_of_day_semantics(self, notified_at: datetime, objection_days: int) -> None:
        window = window_for(notified_at, objection_days)
        last_instant = window.closes_at - TICK
        assert last_instant.astimezone(SEOUL).date() == window.last_day
        assert window.state(last_instant) == WindowState.OPEN
        assert window.state(window.closes_at) == WindowState.CLOSED
        assert window.deadline.date() == window.last_day
        assert window.deadline.utcoffset() == timedelta(hours=9)

    @given(instants, days)
    def test_the_window_opens_at_the_notification(self, notified_at: datetime, objection_days: int) -> None:
        window = window_for(notified_at, objection_days)
        assert window.state(notified_at) == WindowState.OPEN
        assert window.state(notified_at - TICK) == WindowState.NOT_OPEN

    @given(instants, days)
    def test_length_is_more_than_n_days_and_at_most_n_plus_one(
        self, notified_at: datetime, objection_days: int
    ) -> None:
        window = window_for(notified_at, objection_days)
        length = window.closes_at - window.opens_at
        assert timedelta(days=objection_days) < length <= timedelta(days=objection_days + 1)
        assert (window.last_day - notified_at.astimezone(SEOUL).date()).days == objection_days

    @given(instants, instants, days)
    def test_a_later_notification_never_closes_earlier(
        self, first: datetime, second: datetime, objection_days: int
    ) -> None:
        early, late = sorted((first, second))
        assert window_for(early, objection_days).closes_at <= window_for(late, objection_days).closes_at

    @given(instants, days, days)
    def test_more_days_never_close_earlier(self, notified_at: datetime, a: int, b: int) -> None:
        fewer, more = sorted((a, b))
        assert window_for(notified_at, fewer).closes_at <= window_for(notified_at, more).closes_at

    @given(instants, days, st.integers(min_value=-12, max_value=14))
    def test_the_offset_the_instant_is_written_in_does_not_matter(
        self, notified_at: datetime, objection_days: int, hours: int
    ) -> None:
        elsewhere = notified_at.astimezone(timezone(timedelta(hours=hours)))
        assert window_for(elsewhere, objection_days) == window_for(notified_at, objection_days)
