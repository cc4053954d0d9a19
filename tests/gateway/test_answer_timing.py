"""Answer timing: time to first token and tokens per second per record, a run's efficiency summary."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SystemClock
from fmc_common.events.base import Event
from fmc_common.events.inference import InferenceRunCompleted, RunEfficiency
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.base import PLATFORM
from fmc_gateway.runs.efficiency import TimedRecord, nearest_rank, summarise, tokens_per_second
from fmc_gateway.runs.models import ItemRecord, RecordStatus, Run
from fmc_gateway.runs.records import RecordWriter, WriterConfig, checked_record
from gateway.helpers import a_run_with_leased_chunks, migrated_gateway_sessions
from gateway.test_record_writer import record
from support.databases import DatabaseFactory


class TestTokensPerSecond:
    def test_a_streamed_answer_is_timed_from_its_first_token(self) -> None:
        assert tokens_per_second(10, latency=1.5, ttft=0.5) == 10.0

    def test_an_answer_not_streamed_is_timed_over_its_whole_latency(self) -> None:
        assert tokens_per_second(10, latency=2.0, ttft=None) == 5.0

    def test_a_single_token_streamed_is_timed_over_its_whole_latency(self) -> None:
        assert tokens_per_second(1, latency=0.5, ttft=0.5) == 2.0

    def test_tokens_not_counted_leave_the_speed_unknown(self) -> None:
        assert tokens_per_second(None, latency=1.0, ttft=0.1) is None

    def test_no_time_to_divide_by_leaves_the_speed_unknown(self) -> None:
        assert tokens_per_second(3, latency=0.0, ttft=None) is None


class TestTimingChecks:
    def test_a_time_to_first_token_that_is_not_a_finite_duration_is_stored_as_unknown(self) -> None:
        for bad in (math.inf, math.nan, -1.0, 1e12, True, "3"):
            checked = checked_record(record(uuid.uuid4(), 0, ttft_ms=bad, tokens_per_second=bad))
            assert (checked["ttft_ms"], checked["tokens_per_second"]) == (None, None)
            assert (checked["status"], checked["text"]) == (RecordStatus.OK, "answer 0")

    def test_good_timings_are_kept(self) -> None:
        checked = checked_record(record(uuid.uuid4(), 0, ttft_ms=12.5, tokens_per_second=40))
        assert (checked["ttft_ms"], checked["tokens_per_second"]) == (12.5, 40.0)

    def test_an_invalid_token_count_leaves_no_speed_derived_from_it(self) -> None:
        checked = checked_record(record(uuid.uuid4(), 0, completion_tokens=2**31, tokens_per_second=9.0))
        assert (checked["status"], checked["tokens_per_second"]) == (RecordStatus.ERROR, None)


class TestSummary:
    def test_percentiles_are_by_nearest_rank(self) -> None:
        values = [float(v) for v in range(1, 21)]
        assert (nearest_rank(values, 0.5), nearest_rank(values, 0.95)) == (10.0, 19.0)
        assert nearest_rank([7.0], 0.95) == 7.0
        assert nearest_rank([], 0.5) is None

    def test_nothing_streamed_leaves_the_time_to_first_token_unknown(self) -> None:
        summary = summarise([TimedRecord(100.0, None, None), TimedRecord(300.0, None, 5.0)])
        assert summary == RunEfficiency(
            items_timed=2,
            items_streamed=0,
            latency_ms_p50=100.0,
            latency_ms_p95=300.0,
            tokens_per_second_median=5.0,
        )

    @given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50), st.floats(0.01, 1.0))
    def test_a_percentile_is_an_observed_value_with_that_share_at_or_below_it(
        self, values: list[float], fraction: float
    ) -> None:
        ordered = sorted(values)
        found = nearest_rank(ordered, fraction)
        assert found in values
        assert sum(v <= found for v in values) >= fraction * len(values)
        assert sum(v < found for v in values) < fraction * len(values)


class _Recorded(Outbox):
    """The real outbox, keeping what it staged for the assertions."""

    def __init__(self) -> None:
        super().__init__(PLATFORM, source="/fmc/test", clock=SystemClock())
        self.events: list[Event] = []

    async def add(self, session: AsyncSession, event: Event) -> str:
        self.events.append(event)
        return await super().add(session, event)


class TestStoredTiming:
    async def test_records_keep_their_timing_and_the_completed_run_and_its_event_carry_the_summary(
        self, database_factory: DatabaseFactory
    ) -> None:
        outbox = _Recorded()
        async with migrated_gateway_sessions(database_factory) as sessions:
            run_id = await a_run_with_leased_chunks(sessions, 4, "replica-a")
            writer = RecordWriter(
                sessions=sessions,
                outbox=outbox,
                clock=SystemClock(),
                config=WriterConfig(100, 0.05, 500, timedelta(seconds=10)),
                after_commit=lambda: None,
                on_committed=lambda done, completed: None,
            )
            rows: list[dict[str, Any]] = [
                record(run_id, 0, latency_ms=400.0, ttft_ms=100.0, tokens_per_second=20.0),
                record(run_id, 1, latency_ms=200.0, ttft_ms=50.0, tokens_per_second=math.inf),
                record(run_id, 2, latency_ms=300.0, ttft_ms=None, tokens_per_second=None),
                record(
                    run_id, 3, status=RecordStatus.ERROR, text=None, error="model-error: no", latency_ms=0.0
                ),
            ]
            for row in rows:
                writer.add(row)
            for chunk in range(4):
                writer.chunk_finished((run_id, chunk))

            await writer.flush()

            async with sessions() as session:
                stored = {
                    r.seq: (r.ttft_ms, r.tokens_per_second)
                    for r in await session.scalars(select(ItemRecord).where(ItemRecord.run_id == run_id))
                }
                run = await session.get(Run, run_id)
            assert stored == {0: (100.0, 20.0), 1: (50.0, None), 2: (None, None), 3: (None, None)}
            assert run is not None
            assert run.status == "completed"
            expected = RunEfficiency(
                items_timed=3,
                items_streamed=2,
                ttft_ms_p50=50.0,
                ttft_ms_p95=100.0,
                latency_ms_p50=300.0,
                latency_ms_p95=400.0,
                tokens_per_second_median=20.0,
            )
            assert RunEfficiency.model_validate(run.efficiency) == expected
            completed = [e for e in outbox.events if isinstance(e, InferenceRunCompleted)]
            assert [e.efficiency for e in completed] == [expected]
