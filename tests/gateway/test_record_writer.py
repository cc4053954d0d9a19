"""The record writer stores each run's records on their own: a record the database refuses fails its item."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fmc_common import db, migrations
from fmc_common.clock import SystemClock
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.base import PLATFORM
from fmc_gateway.main import MIGRATIONS
from fmc_gateway.runs.bulk import SqliteBulkInsert
from fmc_gateway.runs.models import ChunkStatus, ItemRecord, RecordStatus, Run, RunChunk
from fmc_gateway.runs.records import RECORDS, RecordWriter, WriterConfig, checked_record
from fmc_gateway.runs.sqlite_batches import ProgressConfig, SqliteBatches, Stored
from gateway.helpers import a_run_with_leased_chunks, migrated_gateway_sessions
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
        committed: list[Any] = []
        async with migrated_gateway_sessions(database_factory) as sessions:
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


class TestRecordsStoredAlready:
    async def test_a_batch_meeting_records_another_replica_stored_counts_each_record_once(
        self, database_factory: DatabaseFactory
    ) -> None:
        async with migrated_gateway_sessions(database_factory) as sessions:
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


def a_writer(sessions: Any, *, progress_items: int = 500, committed: list[Any] | None = None) -> RecordWriter:
    return RecordWriter(
        sessions=sessions,
        outbox=Outbox(PLATFORM, source="/fmc/test", clock=SystemClock()),
        clock=SystemClock(),
        config=WriterConfig(100, 0.05, progress_items, timedelta(seconds=10)),
        after_commit=lambda: None,
        on_committed=lambda done, completed: (committed if committed is not None else []).append(
            (sorted(done), list(completed))
        ),
    )


async def progress_events(sessions: Any) -> list[dict[str, Any]]:
    """The progress events staged in the outbox, oldest first (their envelopes' data)."""
    outbox = PLATFORM.outbox
    async with sessions() as session:
        rows = (
            await session.execute(select(outbox.c.event_type, outbox.c.payload).order_by(outbox.c.seq))
        ).all()
    envelopes = [json.loads(row.payload) for row in rows if "progress" in row.event_type]
    return [envelope["data"] for envelope in envelopes]


class TestUsualBatches:
    """A run's usual batch (new records, the run stays open) is stored in one call of SQLite's driver
    thread (``runs.sqlite_batches``), through the general path on PostgreSQL: the same outcome."""

    async def test_new_records_are_counted_their_chunks_done_and_a_due_progress_event_staged(
        self, database_factory: DatabaseFactory
    ) -> None:
        committed: list[Any] = []
        async with migrated_gateway_sessions(database_factory) as sessions:
            run_id = await a_run_with_leased_chunks(sessions, 10, "replica-a")
            writer = a_writer(sessions, progress_items=3, committed=committed)
            for seq in range(4):
                error = {"status": RecordStatus.ERROR, "text": None, "error": "model-error: no"}
                writer.add(record(run_id, seq, **(error if seq == 2 else {})))
            writer.add(record(run_id, 3, text="answered twice"))  # still one record for the item
            for chunk in range(3):  # chunk 3's record is stored, yet the executor has not finished it
                writer.chunk_finished((run_id, chunk))
            await writer.flush()
            for seq in (4, 5):  # fewer than progress_items since the last event: none staged
                writer.add(record(run_id, seq))
            writer.chunk_finished((run_id, 4))
            writer.chunk_finished((run_id, 7))  # no record yet: released, not done
            await writer.flush()

            async with sessions() as session:
                run = await session.get(Run, run_id)
                texts = dict((await session.execute(select(ItemRecord.seq, ItemRecord.text))).all())
                chunks = {
                    chunk.chunk_no: (chunk.status, chunk.lease_owner)
                    for chunk in await session.scalars(select(RunChunk).where(RunChunk.run_id == run_id))
                }
            assert run is not None
            assert (run.status, run.answered, run.errored) == ("running", 6, 1)
            assert run.progress_reported == 4
            assert texts == {
                0: "answer 0",
                1: "answer 1",
                2: None,
                3: "answered twice",  # as the general path: the later answer of the batch
                4: "answer 4",
                5: "answer 5",
            }
            assert chunks[0] == chunks[1] == chunks[2] == chunks[4] == (ChunkStatus.DONE, None)
            assert chunks[3] == (ChunkStatus.PENDING, "replica-a")
            assert chunks[7] == (ChunkStatus.PENDING, None)  # released for any replica
            assert committed == [([(run_id, 0), (run_id, 1), (run_id, 2)], []), ([(run_id, 4)], [])]
            events = await progress_events(sessions)
            assert [(e["run_id"], e["answered"], e["errored"], e["total"]) for e in events] == [
                (str(run_id), 4, 1, 10)
            ]

    async def test_a_usual_batch_meeting_a_record_another_replica_stored_counts_it_once(
        self, database_factory: DatabaseFactory
    ) -> None:
        async with migrated_gateway_sessions(database_factory) as sessions:
            run_id = await a_run_with_leased_chunks(sessions, 10, "replica-a")
            other = a_writer(sessions)
            other.add(record(run_id, 0))
            other.add(record(run_id, 1, status=RecordStatus.ERROR, text=None, error="model-error: no"))
            await other.flush()
            mine = a_writer(sessions)
            mine.add(record(run_id, 1, text="answered again"))
            mine.add(record(run_id, 2))
            await mine.flush()

            async with sessions() as session:
                run = await session.get(Run, run_id)
                stored = dict((await session.execute(select(ItemRecord.seq, ItemRecord.status))).all())
            assert run is not None
            assert stored == {0: RecordStatus.OK, 1: RecordStatus.ERROR, 2: RecordStatus.OK}
            assert (run.status, run.answered, run.errored) == ("running", 3, 1)

    async def test_a_refused_record_in_a_usual_batch_fails_its_item_only(
        self, database_factory: DatabaseFactory
    ) -> None:
        async with migrated_gateway_sessions(database_factory) as sessions:
            run_id = await a_run_with_leased_chunks(sessions, 10, "replica-a")
            writer = a_writer(sessions)
            for seq in range(3):
                writer.add(record(run_id, seq, **({"latency_ms": None} if seq == 1 else {})))
            await writer.flush()

            async with sessions() as session:
                run = await session.get(Run, run_id)
                stored = dict((await session.execute(select(ItemRecord.seq, ItemRecord.status))).all())
            assert run is not None
            assert stored == {0: RecordStatus.OK, 1: RecordStatus.ERROR, 2: RecordStatus.OK}
            assert (run.status, run.answered, run.errored) == ("running", 3, 1)


class TestSqliteBatches:
    """SQLite only (PostgreSQL has no driver thread to hand a batch to): which batches go in one call,
    and that one left to the general path leaves nothing behind."""

    async def test_a_usual_batch_is_stored_in_one_call_and_one_that_may_complete_or_conflict_is_not(
        self, tmp_path: Path
    ) -> None:
        factory = DatabaseFactory("sqlite", tmp_path)
        url = await factory.create("gateway")
        await migrations.upgrade(MIGRATIONS, url)
        engine = db.create_engine(url)
        sessions = db.session_factory(engine)
        try:
            run_id = await a_run_with_leased_chunks(sessions, 4, "replica-a")
            batches = SqliteBatches(
                engine=engine,
                insert=SqliteBulkInsert(
                    RECORDS, sqlite_insert(RECORDS).on_conflict_do_nothing(), engine.dialect
                ),
                outbox=Outbox(PLATFORM, source="/fmc/test", clock=SystemClock()),
                clock=SystemClock(),
                progress=ProgressConfig(2, timedelta(seconds=10)),
            )
            usual = [checked_record(record(run_id, seq)) for seq in (0, 1)]
            stored = await batches.store(run_id, usual, [0])
            # Items 1 (stored already) and 2: the general path must count them.
            conflict = await batches.store(run_id, [checked_record(record(run_id, s)) for s in (1, 2)], [])
            # Items 2 and 3 complete the run: the general path completes it.
            completing = await batches.store(run_id, [checked_record(record(run_id, s)) for s in (2, 3)], [])

            async with sessions() as session:
                run = await session.get(Run, run_id)
                seqs = list(await session.scalars(select(ItemRecord.seq).order_by(ItemRecord.seq)))
            assert stored == Stored(added=2, errors=0, done=[0], staged_event=True)
            assert conflict is None
            assert completing is None
            assert seqs == [0, 1]  # nothing of the batches left to the general path was kept
            assert run is not None
            assert (run.answered, run.progress_reported, run.status) == (2, 2, "running")
            assert len(await progress_events(sessions)) == 1
        finally:
            await engine.dispose()
            await factory.drop_all()
