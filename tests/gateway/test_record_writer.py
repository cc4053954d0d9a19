"""The record writer stores each run's records on their own: a record the database refuses fails its item."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from fmc_common import db, migrations
from fmc_common.clock import SystemClock
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.base import PLATFORM
from fmc_gateway.main import MIGRATIONS
from fmc_gateway.runs.models import ChunkStatus, ItemRecord, RecordStatus, Run, RunChunk
from fmc_gateway.runs.records import RecordWriter, WriterConfig, checked_record
from gateway.helpers import a_run_with_leased_chunks
from support.databases import DatabaseFactory


def record(run_id: uuid.UUID, seq: int, **values: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "run_id": run_id,
        "seq": seq,
        "item_id": f"item-{seq}",
        "status": RecordStatus.OK,
        "text": f"answer {seq}",
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "error": None,
        "latency_ms": 5.0,
        "attempts": 1,
        "server_version": "2.51.0",
        "model_version": "1",
        "replica": "replica-a",
        "started_at": now,
        "finished_at": now,
    } | values


class TestRecordChecks:
    def test_a_nul_becomes_a_replacement_character_and_the_record_stays_ok(self) -> None:
        checked = checked_record(record(uuid.uuid4(), 0, text="a\x00b", error=None))
        assert (checked["status"], checked["text"]) == (RecordStatus.OK, "a\ufffdb")

    def test_a_lone_surrogate_is_replaced(self) -> None:
        assert checked_record(record(uuid.uuid4(), 0, text="a\ud800b"))["text"] == "a?b"

    def test_a_token_count_out_of_a_32_bit_column_makes_the_record_an_error_saying_so(self) -> None:
        checked = checked_record(record(uuid.uuid4(), 0, completion_tokens=2**31))
        assert checked["status"] == RecordStatus.ERROR
        assert checked["text"] is None
        assert checked["completion_tokens"] is None
        assert "completion_tokens 2147483648 is not a token count" in checked["error"]

    def test_a_negative_token_count_is_refused_too(self) -> None:
        assert checked_record(record(uuid.uuid4(), 0, prompt_tokens=-1))["status"] == RecordStatus.ERROR


class TestPerRunBatches:
    async def test_a_record_the_database_refuses_fails_its_item_only_and_never_another_runs_records(
        self, database_factory: DatabaseFactory
    ) -> None:
        url = await database_factory.create("gateway")
        await migrations.upgrade(MIGRATIONS, url)
        engine = db.create_engine(url)
        sessions = db.session_factory(engine)
        committed: list[Any] = []
        try:
            bad_run = await a_run_with_leased_chunks(sessions, 3, "replica-a")
            good_run = await a_run_with_leased_chunks(sessions, 3, "replica-a")
            writer = RecordWriter(
                sessions=sessions,
                outbox=Outbox(PLATFORM, source="/fmc/test", clock=SystemClock()),
                clock=SystemClock(),
                config=WriterConfig(100, 0.05, 500, timedelta(seconds=10)),
                after_commit=lambda: None,
                on_committed=lambda done, completed: committed.append((list(done), list(completed))),
            )
            # One batch holds both runs' records; one record breaks a NOT NULL constraint (a stand-in
            # for anything the checks before storage did not foresee).
            for seq in range(3):
                writer.add(record(bad_run, seq, **({"latency_ms": None} if seq == 1 else {})))
                writer.add(record(good_run, seq))
            for seq in range(3):
                writer.chunk_finished((bad_run, seq))
                writer.chunk_finished((good_run, seq))

            await writer.flush()

            async with sessions() as session:
                rows = (
                    await session.execute(
                        select(ItemRecord.run_id, ItemRecord.seq, ItemRecord.status, ItemRecord.error)
                    )
                ).all()
                runs = {run.id: run for run in await session.scalars(select(Run))}
                chunks = list(await session.scalars(select(RunChunk.status)))
            stored = {(row.run_id, row.seq): row for row in rows}
            assert len(stored) == 6
            assert {stored[good_run, s].status for s in range(3)} == {RecordStatus.OK}
            assert stored[bad_run, 0].status == stored[bad_run, 2].status == RecordStatus.OK
            assert stored[bad_run, 1].status == RecordStatus.ERROR
            assert stored[bad_run, 1].error.startswith("unstorable-answer: the database refused the answer")
            assert {run.status for run in runs.values()} == {"completed"}
            assert (runs[bad_run].answered, runs[bad_run].errored) == (3, 1)
            assert chunks == [ChunkStatus.DONE] * 6
        finally:
            await engine.dispose()


class TestRecordsStoredAlready:
    async def test_a_batch_meeting_records_another_replica_stored_counts_each_record_once(
        self, database_factory: DatabaseFactory
    ) -> None:
        url = await database_factory.create("gateway")
        await migrations.upgrade(MIGRATIONS, url)
        engine = db.create_engine(url)
        sessions = db.session_factory(engine)
        try:
            run_id = await a_run_with_leased_chunks(sessions, 4, "replica-a")

            def writer() -> RecordWriter:
                return RecordWriter(
                    sessions=sessions,
                    outbox=Outbox(PLATFORM, source="/fmc/test", clock=SystemClock()),
                    clock=SystemClock(),
                    config=WriterConfig(100, 0.05, 500, timedelta(seconds=10)),
                    after_commit=lambda: None,
                    on_committed=lambda done, completed: None,
                )

            # Another replica stored items 0 and 1 (item 1 an error); this one answered 1, 2 and 3
            # (3 an error), and item 2 twice in the same batch.
            other = writer()
            other.add(record(run_id, 0))
            other.add(record(run_id, 1, status=RecordStatus.ERROR, text=None, error="model-error: no"))
            await other.flush()
            mine = writer()
            mine.add(record(run_id, 1, text="answered again"))
            mine.add(record(run_id, 2))
            mine.add(record(run_id, 2, text="answered twice"))
            mine.add(record(run_id, 3, status=RecordStatus.ERROR, text=None, error="model-error: no"))
            await mine.flush()

            async with sessions() as session:
                rows = (
                    await session.execute(select(ItemRecord.seq, ItemRecord.status, ItemRecord.text))
                ).all()
                run = await session.get(Run, run_id)
            assert run is not None
            stored = {row.seq: row for row in rows}
            assert sorted(stored) == [0, 1, 2, 3]
            assert stored[1].status == RecordStatus.ERROR  # the record stored first stays
            assert (run.answered, run.errored) == (4, 2)
        finally:
            await engine.dispose()
