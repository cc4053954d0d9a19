"""Clocks: the manual clock for tests, the shifted clock for the demo's time travel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fmc_common.clock import ManualClock, ShiftedClock, SystemClock, default_clock


class TestManualClock:
    def test_refuses_naive_times_and_moves_only_when_told(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            ManualClock(datetime(2026, 1, 1))
        clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
        assert clock.advance(timedelta(days=10)) == datetime(2026, 1, 11, tzinfo=UTC)
        assert clock.now() == datetime(2026, 1, 11, tzinfo=UTC)


class TestShiftedClock:
    def test_follows_the_offset_file_and_never_goes_back(self, tmp_path: Path) -> None:
        offset = tmp_path / "clock"
        clock = ShiftedClock(offset)
        assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5  # no file: system time
        offset.write_text(str(11 * 86400))
        assert clock.now() - datetime.now(UTC) > timedelta(days=10, hours=23)
        offset.write_text("0")
        assert clock.now() - datetime.now(UTC) > timedelta(days=10, hours=23)

    def test_default_clock_is_the_system_clock_unless_the_dev_variable_is_set(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert isinstance(default_clock(), SystemClock)
        monkeypatch.setenv("FMC_DEV_CLOCK_FILE", str(tmp_path / "clock"))
        assert isinstance(default_clock(), ShiftedClock)
