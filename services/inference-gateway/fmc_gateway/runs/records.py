"""Storing item records in batches: one transaction per run inserts its records (once: ON CONFLICT DO
NOTHING on (run, item)), updates the run's counts, marks its finished chunks done, and stages progress
and completion events in the outbox. A crash loses at most the batch not yet committed; those items
are answered again by whoever takes the chunk next.

Every record is checked before it is stored (``checked_record``): text loses the characters a
PostgreSQL text column cannot hold, integers out of a column's range make the record an error that
says why. A run's batch the database still refuses is stored record by record, and a record refused
alone becomes an error record naming the refusal: one bad answer fails at most its own item, and
never holds back the records of other runs.

On SQLite a run's usual batch (new records of a run that stays open) is the same transaction made in
one call of the database driver's thread (``fmc_gateway.runs.sqlite_batches``); the rest goes
through ``_apply`` here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock, utc_delta
from fmc_common.db import transaction
from fmc_common.events.inference import DecodingParameters, InferenceRunCompleted, InferenceRunProgressed
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.locking import begin_writing
from fmc_gateway.runs.bulk import SqliteBulkInsert
from fmc_gateway.runs.efficiency import (
    MAX_MS,
    MAX_TOKENS_PER_SECOND,
    TimedRecord,
    checked_timing,
    summarise,
)
from fmc_gateway.runs.hashing import responses_digest
from fmc_gateway.runs.metrics import GatewayMetrics
from fmc_gateway.runs.models import ChunkStatus, ItemRecord, RecordStatus, Run, RunChunk, RunStatus
from fmc_gateway.runs.service import WaitCause, pause_run
from fmc_gateway.runs.sqlite_batches import ProgressConfig, SqliteBatches
from fmc_gateway.runs.timing import wait_any

log = logging.getLogger(__name__)
ChunkKey = tuple[uuid.UUID, int]
OPEN = (RunStatus.RUNNING, RunStatus.WAITING)
SLICE = 100
# SQLite's slices are tuples for executemany, a few microseconds a row: 500 of them take the event
# loop about as long as 100 rows through SQLAlchemy's parameter processing did.
SQLITE_SLICE = 500
# Core inserts: the ORM's bulk path costs more per row, and a run stores every item through here.
RECORDS = cast(Table, ItemRecord.__table__)
INT_MAX = 2**31 - 1  # the token count columns are 32-bit integers
TEXT_FIELDS = ("text", "error")
SHORT_FIELDS = {"model_version": 50, "server_version": 50, "replica": 100}
REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    """``value`` without what a PostgreSQL text column refuses: NUL, and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value


def checked_record(row: dict[str, Any]) -> dict[str, Any]:
    """The record as it can be stored on SQLite and PostgreSQL alike: text cleaned (a NUL becomes
    U+FFFD), short strings cut to their column, and a token count that is not an integer in
    0..2^31-1 turns the record into an error saying so (the answer is not stored). A time to first
    token or a speed that is not a finite number in range is stored as unknown (null)."""
    row = dict(row)
    for name in TEXT_FIELDS:
        if isinstance(row.get(name), str):
            row[name] = clean_text(row[name])
    for name, size in SHORT_FIELDS.items():
        if isinstance(row.get(name), str):
            row[name] = clean_text(row[name])[:size]
    # Timings are the gateway's own measures, not the model's answer: one out of range (not a
    # finite number in its column's range) is stored as unknown; the answer stays.
    row["ttft_ms"] = checked_timing(row.get("ttft_ms"), MAX_MS)
    row["tokens_per_second"] = checked_timing(row.get("tokens_per_second"), MAX_TOKENS_PER_SECOND)
    for name in ("prompt_tokens", "completion_tokens"):
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT_MAX:
            return row | {
                "status": RecordStatus.ERROR,
                "text": None,
                "prompt_tokens": None,
                "completion_tokens": None,
                "tokens_per_second": None,
                "error": f"invalid-answer: {name} {value!r} is not a token count in 0..{INT_MAX}",
            }
    return row


def unstorable(row: dict[str, Any], error: BaseException, now: datetime) -> dict[str, Any]:
    """The error record stored instead of a record the database refused on its own: only its identity
    is kept from it, every other field is rebuilt from safe values."""
    reason = clean_text(str(getattr(error, "orig", None) or error))[:500]

    def short(name: str, size: int) -> str:
        value = row.get(name)
        return clean_text(value)[:size] if isinstance(value, str) else ""

    latency, attempts = row.get("latency_ms"), row.get("attempts")
    started = row.get("started_at")
    return {
        "run_id": row["run_id"],
        "seq": row["seq"],
        "item_id": short("item_id", 200),
        "status": RecordStatus.ERROR,
        "text": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "error": f"unstorable-answer: the database refused the answer: {reason}",
        "latency_ms": checked_timing(latency, MAX_MS) or 0.0,
        "ttft_ms": None,
        "tokens_per_second": None,
        "attempts": attempts if isinstance(attempts, int) and 0 <= attempts <= INT_MAX else 0,
        "server_version": short("server_version", 50),
        "model_version": short("model_version", 50),
        "replica": short("replica", 100),
        "started_at": started if isinstance(started, datetime) else now,
        "finished_at": now,
    }


def _infrastructure(error: BaseException) -> bool:
    """The database (or the way to it) failed, not the data: keep the records and try again later."""
    if isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


@dataclass(frozen=True)
class WriterConfig:
    flush_items: int
    flush_seconds: float
    progress_items: int
    progress_every: timedelta


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    finished: set[ChunkKey] = field(default_factory=set)
    states: dict[uuid.UUID, tuple[RunStatus, str | None]] = field(default_factory=dict)
    rechecks: set[uuid.UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.rows or self.finished or self.states or self.rechecks)

    def by_run(self) -> dict[uuid.UUID, _Batch]:
        """The batch split per run (each is stored in its own transaction), in run id order."""
        parts: dict[uuid.UUID, _Batch] = {}
        for row in self.rows:
            parts.setdefault(row["run_id"], _Batch()).rows.append(row)
        for key in self.finished:
            parts.setdefault(key[0], _Batch()).finished.add(key)
        for run_id, state in self.states.items():
            parts.setdefault(run_id, _Batch()).states[run_id] = state
        for run_id in self.rechecks:
            parts.setdefault(run_id, _Batch()).rechecks.add(run_id)
        return dict(sorted(parts.items()))

    def absorb(self, other: _Batch) -> None:
        self.rows.extend(other.rows)
        self.finished |= other.finished
        self.states.update(other.states)
        self.rechecks |= other.rechecks


class RecordWriter:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock,
        config: WriterConfig,
        after_commit: Callable[[], None],
        on_committed: Callable[[Sequence[ChunkKey], Sequence[uuid.UUID]], None],
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._stored = {status: 0 for status in RecordStatus}
        self._staged_events = False
        self._sessions = sessions
        self._outbox = outbox
        self._clock = clock
        self._config = config
        self._after_commit = after_commit
        self._on_committed = on_committed
        self._batch = _Batch()
        self._wake = asyncio.Event()
        dialect = sessions.kw["bind"].dialect
        self._dialect = dialect.name
        # On SQLite the records go to executemany as tuples; the driver's row count says how many
        # were new (fmc_gateway.runs.bulk).
        self._sqlite_insert = (
            SqliteBulkInsert(RECORDS, sqlite_insert(RECORDS).on_conflict_do_nothing(), dialect)
            if dialect.name == "sqlite"
            else None
        )
        # On SQLite a run's usual batch is one call into the driver's thread (runs.sqlite_batches);
        # on PostgreSQL asyncpg sends each statement itself, without a thread to hand it to.
        self._batches = (
            SqliteBatches(
                engine=sessions.kw["bind"],
                insert=self._sqlite_insert,
                outbox=outbox,
                clock=clock,
                progress=ProgressConfig(config.progress_items, config.progress_every),
            )
            if self._sqlite_insert is not None
            else None
        )

    def add(self, row: dict[str, Any]) -> None:
        self._batch.rows.append(checked_record(row))
        if len(self._batch.rows) >= self._config.flush_items:
            self._wake.set()

    def chunk_finished(self, key: ChunkKey) -> None:
        self._batch.finished.add(key)
        self._wake.set()  # store it now: the run may be complete, and its lease can go

    def recheck(self, run_id: uuid.UUID) -> None:
        """Count the run's records exactly with the next batch (and complete it if they are all there)."""
        self._batch.rechecks.add(run_id)
        self._wake.set()

    def set_state(self, run_id: uuid.UUID, status: RunStatus, reason: str | None) -> None:
        """Mark a run WAITING (with why) or RUNNING again; applied with the next batch."""
        self._batch.states[run_id] = (status, reason)
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        delay = self._config.flush_seconds
        while True:
            self._wake.clear()
            await wait_any(stop, self._wake, delay)
            try:
                await self.flush()
                delay = self._config.flush_seconds
            except Exception:
                log.exception("storing item records failed; keeping them and trying again")
                delay = min(max(delay * 2, 0.5), 5.0)
            if stop.is_set() and not self._batch:
                return

    async def flush(self) -> None:
        self._stored = {status: 0 for status in RecordStatus}
        self._staged_events = False
        batch, self._batch = self._batch, _Batch()
        if not batch:
            return
        done: list[ChunkKey] = []
        completed: list[uuid.UUID] = []
        parts = list(batch.by_run().values())
        try:
            # One transaction per run: a run's records never wait on another run's, and each
            # transaction locks one run only (no lock order to get wrong between replicas).
            while parts:
                part_done, part_completed = await self._store_part(parts[0])
                done += part_done
                completed += part_completed
                parts.pop(0)
        finally:
            for part in parts:
                self._restore(part)
            if self._staged_events:
                self._after_commit()  # wakes the outbox relay: only worth it when there is something to send
            if self._metrics is not None:
                for status, count in self._stored.items():
                    if count:
                        self._metrics.records.labels(status=status).inc(count)
            if done or completed:
                self._on_committed(done, completed)

    async def _store_part(self, part: _Batch) -> tuple[list[ChunkKey], list[uuid.UUID]]:
        try:
            return await self._commit(part)
        except Exception as exc:
            if _infrastructure(exc) or not part.rows:
                raise
            log.warning("the database refused a batch of records; storing them one by one", exc_info=True)
        # Some record is refused by the database itself: each record alone, a refused one as an error.
        for row in part.rows:
            try:
                await self._commit(_Batch(rows=[row]))
            except Exception as exc:
                if _infrastructure(exc):
                    raise
                log.warning("a record was refused; storing an error for its item", exc_info=True)
                await self._commit(_Batch(rows=[unstorable(row, exc, self._clock.now())]))
        part.rows = []
        return await self._commit(part)

    async def _commit(self, batch: _Batch) -> tuple[list[ChunkKey], list[uuid.UUID]]:
        stored = dict(self._stored)
        try:
            direct = await self._store_directly(batch)
            if direct is not None:
                return direct
            async with transaction(self._sessions) as session:
                return await self._apply(session, batch)
        except BaseException:
            self._stored = stored  # nothing of it was stored
            raise

    async def _store_directly(self, batch: _Batch) -> tuple[list[ChunkKey], list[uuid.UUID]] | None:
        """The batch in one call of SQLite's driver thread when it is the usual kind (new records of
        one run that stays open, its finished chunks); None: ``_apply`` stores it."""
        if self._batches is None or not batch.rows or batch.states or batch.rechecks:
            return None
        runs = {row["run_id"] for row in batch.rows} | {key[0] for key in batch.finished}
        if len(runs) != 1:
            return None
        (run_id,) = runs
        fresh = {row["seq"]: row for row in batch.rows}  # an item answered twice in one batch: once
        stored = await self._batches.store(
            run_id, [fresh[seq] for seq in sorted(fresh)], [key[1] for key in batch.finished]
        )
        if stored is None:
            return None
        self._stored[RecordStatus.ERROR] += stored.errors
        self._stored[RecordStatus.OK] += stored.added - stored.errors
        self._staged_events |= stored.staged_event
        return [(run_id, chunk_no) for chunk_no in stored.done], []

    def _restore(self, batch: _Batch) -> None:
        batch.absorb(self._batch)
        self._batch = batch

    async def _apply(self, session: AsyncSession, batch: _Batch) -> tuple[list[ChunkKey], list[uuid.UUID]]:
        by_run: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for row in batch.rows:
            by_run.setdefault(row["run_id"], []).append(row)
        touched = set(by_run) | {key[0] for key in batch.finished} | set(batch.states) | batch.rechecks
        await begin_writing(session)
        # Lock the runs first, in one statement and in id order: replicas storing records of the
        # same run queue up (instead of deadlocking), and each sees what the ones before committed.
        runs = list(
            await session.scalars(select(Run).where(Run.id.in_(touched)).order_by(Run.id).with_for_update())
        )
        new: dict[uuid.UUID, tuple[int, int]] = {}
        counted: set[uuid.UUID] = set()
        for run in runs:
            inserted = await self._insert(session, run.id, by_run.get(run.id, []))
            if inserted is None:
                # Some of the records were stored already (another replica answered them too) and
                # SQLite's row count does not say which: the run's records are counted instead.
                answered, errored = run.answered, run.errored
                await self._recount(session, run)
                inserted = (run.answered - answered, run.errored - errored)
                self._stored[RecordStatus.ERROR] += inserted[1]
                self._stored[RecordStatus.OK] += inserted[0] - inserted[1]
                counted.add(run.id)
            new[run.id] = inserted
            state = batch.states.get(run.id)
            if state is not None and run.status in OPEN and run.prepared_at is not None:
                status, reason = state
                if status == RunStatus.WAITING:
                    # The endpoint's circuit opened: one run-waiting event per pause.
                    now = self._clock.now()
                    paused = await pause_run(
                        session, self._outbox, run, WaitCause.BREAKER_OPEN, reason or "", now
                    )
                    self._staged_events |= paused
                else:
                    run.status, run.status_reason = status, reason
        done = [key for key in sorted(batch.finished) if await self._mark_done(session, key)]
        completed = [
            run.id
            for run in runs
            if await self._account(
                session, run, *new[run.id], recheck=run.id in batch.rechecks, counted=run.id in counted
            )
        ]
        return done, completed

    async def _insert(
        self, session: AsyncSession, run_id: uuid.UUID, rows: list[dict[str, Any]]
    ) -> tuple[int, int] | None:
        """Insert the records not stored yet; returns how many were new, and how many of those are
        errors (``None`` when some were stored already and the database cannot say which: SQLite).

        Counting what is new under the run's lock keeps the run's counts exact without counting all
        its records at every batch (a run may hold a million).
        """
        if not rows:
            return 0, 0
        fresh = {row["seq"]: row for row in rows}  # an item answered twice in one batch: once
        ordered = [fresh[seq] for seq in sorted(fresh)]
        inserted: set[int] = set()
        known = True
        size = SLICE if self._sqlite_insert is None else SQLITE_SLICE
        for start in range(0, len(ordered), size):
            # Slices keep each synchronous stretch of statement building short: the event loop
            # goes on serving Triton's answers between them.
            part = ordered[start : start + size]
            if self._sqlite_insert is not None:
                connection = await session.connection()
                result = await connection.exec_driver_sql(
                    self._sqlite_insert.sql, self._sqlite_insert.parameters(part)
                )
                known = known and result.rowcount == len(part)
                inserted.update(row["seq"] for row in part)
            else:
                statement = pg_insert(RECORDS).on_conflict_do_nothing().returning(RECORDS.c.seq)
                inserted.update(await session.scalars(statement, part))
        if not known:
            return None
        errors = sum(1 for seq in inserted if fresh[seq]["status"] == RecordStatus.ERROR)
        self._stored[RecordStatus.ERROR] += errors
        self._stored[RecordStatus.OK] += len(inserted) - errors
        return len(inserted), errors

    async def _mark_done(self, session: AsyncSession, key: ChunkKey) -> bool:
        run_id, chunk_no = key
        stored = (
            select(func.count())
            .select_from(ItemRecord)
            .where(
                ItemRecord.run_id == RunChunk.run_id,
                ItemRecord.seq.between(RunChunk.first_seq, RunChunk.last_seq),
            )
            .scalar_subquery()
        )
        chunk = (
            await session.execute(
                select(RunChunk.first_seq, RunChunk.last_seq, stored.label("stored")).where(
                    RunChunk.run_id == run_id, RunChunk.chunk_no == chunk_no
                )
            )
        ).one_or_none()
        if chunk is None:
            return False
        complete = bool(chunk.stored == chunk.last_seq - chunk.first_seq + 1)
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if complete:
            values |= {"status": ChunkStatus.DONE, "done_at": self._clock.now()}
        # An incomplete chunk is released so that any replica answers what is missing.
        await session.execute(
            update(RunChunk)
            .where(
                RunChunk.run_id == run_id,
                RunChunk.chunk_no == chunk_no,
                RunChunk.status == ChunkStatus.PENDING,
            )
            .values(**values)
        )
        return complete

    async def _account(
        self,
        session: AsyncSession,
        run: Run,
        added: int,
        errors: int,
        *,
        recheck: bool = False,
        counted: bool = False,
    ) -> bool:
        """Update the run's counts (``counted``: they are exact already); stage a progress or
        completion event. True when it completed now."""
        if run.status not in OPEN:
            return False
        now = self._clock.now()
        if added:
            if not counted:
                run.answered += added
                run.errored += errors
            run.last_progress_at = now
            run.stuck_since = None
        if (recheck or run.answered >= run.total) and await self._recount(session, run) >= run.total:
            return await self._complete(session, run)
        since = run.progress_reported_at or run.prepared_at or run.accepted_at
        if run.answered > run.progress_reported and (
            run.answered - run.progress_reported >= self._config.progress_items
            or utc_delta(since, now) >= self._config.progress_every
        ):
            run.progress_reported, run.progress_reported_at = run.answered, now
            self._staged_events = True
            await self._outbox.add(
                session,
                InferenceRunProgressed(
                    run_id=run.id,
                    stage_id=run.stage_id,
                    submission_id=run.submission_id,
                    team_id=run.team_id,
                    total=run.total,
                    answered=run.answered,
                    errored=run.errored,
                    status=run.status,
                    at=now,
                ),
            )
        return False

    async def _recount(self, session: AsyncSession, run: Run) -> int:
        """The true counts, once, before completing: the run completes on stored records only."""
        answered, errored = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((ItemRecord.status == RecordStatus.ERROR, 1), else_=0)), 0),
                ).where(ItemRecord.run_id == run.id)
            )
        ).one()
        run.answered, run.errored = int(answered), int(errored)
        return run.answered

    async def _complete(self, session: AsyncSession, run: Run) -> bool:
        now = self._clock.now()
        columns = RECORDS.c  # Core columns: every record of the run is read here, as plain rows
        records = await session.execute(
            select(
                columns.item_id,
                columns.status,
                columns.text,
                columns.error,
                columns.latency_ms,
                columns.ttft_ms,
                columns.tokens_per_second,
            )
            .where(columns.run_id == run.id)
            .order_by(columns.seq)
        )
        rows = records.all()  # the rows the digest reads anyway also give the timings
        digest = responses_digest((r.item_id, r.status, r.text, r.error) for r in rows)
        efficiency = summarise(
            TimedRecord(r.latency_ms, r.ttft_ms, r.tokens_per_second)
            for r in rows
            if r.status == RecordStatus.OK
        )
        run.status, run.status_reason, run.finished_at = RunStatus.COMPLETED, None, now
        run.responses_sha256 = digest
        run.efficiency = efficiency.model_dump(mode="json")
        self._staged_events = True
        await self._outbox.add(
            session,
            InferenceRunCompleted(
                run_id=run.id,
                stage_id=run.stage_id,
                submission_id=run.submission_id,
                team_id=run.team_id,
                total=run.total,
                answered=run.answered,
                errored=run.errored,
                responses_sha256=digest,
                suite_content_hash=run.suite_hash,
                gpu_pool=run.gpu_pool,
                hardware_class=run.hardware_class,
                server_version=run.server_version or "",
                model_version=run.model_version or "",
                started_at=run.prepared_at or run.accepted_at,
                completed_at=now,
                model_name=run.model_name or "",
                serving_stack=run.serving_stack or "",
                decoding=DecodingParameters.model_validate(run.decoding),
                efficiency=efficiency,
            ),
        )
        return True
