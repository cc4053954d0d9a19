"""A run's batch of records on SQLite as one call into the database driver's own thread.

Through SQLAlchemy's async API over aiosqlite every driver call (cursor, execute, fetch, close,
commit) is a hand-off to aiosqlite's thread and back, each costing the event loop a wake-up, a
future and a greenlet switch: a batch's transaction (``BEGIN IMMEDIATE``, the run's row, the
insert, the chunks, the run's update, the outbox, ``COMMIT``) made about thirty of them. Here the
whole transaction is one function run in that thread, on the same SQLite connection, through a
synchronous SQLAlchemy connection made over it: the same statements, the same lock taken first, the
same values stored, one hand-off.

Only the common case goes this way: new records of one open run that do not complete it, and its
finished chunks, with the progress event when one is due. Anything else (a record stored already,
a run that may complete, a closed or unknown run) is rolled back here and left to the writer's
general path, which does it exactly as before. A refused batch raises as it would there.
"""

from __future__ import annotations

import contextvars
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, cast

from sqlalchemy import StaticPool, create_engine, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from fmc_common.clock import Clock, utc_delta
from fmc_common.events.inference import InferenceRunProgressed
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.runs.bulk import SqliteBulkInsert
from fmc_gateway.runs.models import ChunkStatus, ItemRecord, RecordStatus, Run, RunChunk, RunStatus

OPEN = (RunStatus.RUNNING, RunStatus.WAITING)


class _Driver(Protocol):
    """What is used of aiosqlite's connection: its sqlite3 connection and its thread's queue."""

    @property
    def _conn(self) -> sqlite3.Connection: ...

    async def _execute(self, fn: Callable[[], Any]) -> Any: ...


@dataclass(frozen=True)
class Stored:
    """What a batch stored: new records, of them errors; chunks now done; whether it staged an event."""

    added: int
    errors: int
    done: list[int]
    staged_event: bool


@dataclass(frozen=True)
class ProgressConfig:
    items: int
    every: timedelta


class SqliteBatches:
    """Stores a run's batch in one call of the driver's thread (``store``: None means "not here")."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        insert: SqliteBulkInsert,
        outbox: Outbox,
        clock: Clock,
        progress: ProgressConfig,
    ) -> None:
        self._engine = engine
        self._insert = insert
        self._outbox = outbox
        self._clock = clock
        self._progress = progress
        # A synchronous engine over the one sqlite3 connection it was made for, used only in that
        # connection's thread (a new driver connection gets a new one).
        self._sync: tuple[sqlite3.Connection, Engine] | None = None

    async def store(
        self, run_id: uuid.UUID, rows: Sequence[dict[str, Any]], chunks: Sequence[int]
    ) -> Stored | None:
        """Store ``rows`` (new records of run ``run_id``, one per seq) and mark ``chunks`` done if all
        their records are there, in one transaction; None when the general path must do it."""
        async with self._engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            if not (hasattr(driver, "_execute") and hasattr(driver, "_conn")):
                return None  # not aiosqlite's connection (or another version of it)
            work = partial(self._in_thread, cast(_Driver, driver), run_id, rows, chunks)
            # The loop's context goes along: the outbox reads the correlation and trace ids from it.
            context = contextvars.copy_context()
            return cast(Stored | None, await cast(_Driver, driver)._execute(partial(context.run, work)))

    def _in_thread(
        self, driver: _Driver, run_id: uuid.UUID, rows: Sequence[dict[str, Any]], chunks: Sequence[int]
    ) -> Stored | None:
        with self._engine_for(driver._conn).connect() as connection:
            try:
                stored = self._transaction(connection, run_id, rows, chunks)
            except BaseException:
                connection.rollback()
                raise
            if stored is None:
                connection.rollback()
            else:
                connection.commit()
            return stored

    def _engine_for(self, raw: sqlite3.Connection) -> Engine:
        if self._sync is None or self._sync[0] is not raw:
            engine = create_engine("sqlite://", creator=lambda: raw, poolclass=StaticPool)
            self._sync = (raw, engine)
        return self._sync[1]

    def _transaction(
        self, connection: Connection, run_id: uuid.UUID, rows: Sequence[dict[str, Any]], chunks: Sequence[int]
    ) -> Stored | None:
        # The database's write lock first, as the general path does (locking.begin_writing).
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        run = connection.execute(
            select(
                Run.status,
                Run.total,
                Run.answered,
                Run.errored,
                Run.progress_reported,
                Run.progress_reported_at,
                Run.prepared_at,
                Run.accepted_at,
                Run.stage_id,
                Run.submission_id,
                Run.team_id,
            ).where(Run.id == run_id)
        ).one_or_none()
        if run is None or run.status not in OPEN or run.answered + len(rows) >= run.total:
            return None  # gone, closed, or possibly complete with this batch: the general path
        result = connection.exec_driver_sql(self._insert.sql, self._insert.parameters(rows))
        if result.rowcount != len(rows):
            return None  # some were stored already (another replica): the general path counts them
        errors = sum(1 for row in rows if row["status"] == RecordStatus.ERROR)
        now = self._clock.now()
        done = [chunk_no for chunk_no in sorted(chunks) if self._mark_done(connection, run_id, chunk_no, now)]
        answered, errored = run.answered + len(rows), run.errored + errors
        values: dict[str, Any] = {
            "answered": answered,
            "errored": errored,
            "last_progress_at": now,
            "stuck_since": None,
        }
        since = run.progress_reported_at or run.prepared_at or run.accepted_at
        staged = answered > run.progress_reported and (
            answered - run.progress_reported >= self._progress.items
            or utc_delta(since, now) >= self._progress.every
        )
        if staged:
            values |= {"progress_reported": answered, "progress_reported_at": now}
            self._outbox.stage(
                connection,
                [
                    InferenceRunProgressed(
                        run_id=run_id,
                        stage_id=run.stage_id,
                        submission_id=run.submission_id,
                        team_id=run.team_id,
                        total=run.total,
                        answered=answered,
                        errored=errored,
                        status=run.status,
                        at=now,
                    )
                ],
            )
        connection.execute(update(Run).where(Run.id == run_id).values(**values))
        return Stored(added=len(rows), errors=errors, done=done, staged_event=staged)

    @staticmethod
    def _mark_done(connection: Connection, run_id: uuid.UUID, chunk_no: int, now: datetime) -> bool:
        """As ``RecordWriter._mark_done``: done when every record of the chunk is stored, else released."""
        stored = (
            select(func.count())
            .select_from(ItemRecord)
            .where(
                ItemRecord.run_id == RunChunk.run_id,
                ItemRecord.seq.between(RunChunk.first_seq, RunChunk.last_seq),
            )
            .scalar_subquery()
        )
        chunk = connection.execute(
            select(RunChunk.first_seq, RunChunk.last_seq, stored.label("stored")).where(
                RunChunk.run_id == run_id, RunChunk.chunk_no == chunk_no
            )
        ).one_or_none()
        if chunk is None:
            return False
        complete = bool(chunk.stored == chunk.last_seq - chunk.first_seq + 1)
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if complete:
            values |= {"status": ChunkStatus.DONE, "done_at": now}
        connection.execute(
            update(RunChunk)
            .where(
                RunChunk.run_id == run_id,
                RunChunk.chunk_no == chunk_no,
                RunChunk.status == ChunkStatus.PENDING,
            )
            .values(**values)
        )
        return complete
