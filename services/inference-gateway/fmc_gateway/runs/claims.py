"""Chunk leases: which replica answers which slice of a run, and taking over from a replica that died.

A chunk is claimed with a conditional UPDATE (free, or its lease ran out), which at most one replica
wins on PostgreSQL and SQLite alike. The owner renews its leases while it works; when it dies, they
run out after ``chunk_lease_seconds`` and any replica claims the chunk and answers only the items
that have no record yet. Each replica holds a few chunks per run at most, so runs and replicas share.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from fmc_common.clock import Clock
from fmc_common.db import transaction
from fmc_common.events.inference import DecodingParameters, RunLimits
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.runs.executor import Executor, RunContext, WorkItem
from fmc_gateway.runs.items import chat_messages
from fmc_gateway.runs.models import ChunkStatus, Run, RunChunk, RunStatus
from fmc_gateway.runs.preparation import RUN_ITEMS, address_of
from fmc_gateway.runs.records import RECORDS, ChunkKey, RecordWriter
from fmc_gateway.runs.timing import wait_any

log = logging.getLogger(__name__)
OPEN = (RunStatus.RUNNING, RunStatus.WAITING)


@dataclass(frozen=True)
class ClaimConfig:
    lease: timedelta
    per_run: int
    interval: float


class ChunkClaimer:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        replica: str,
        config: ClaimConfig,
        executor: Executor,
        writer: RecordWriter,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._replica = replica
        self._config = config
        self._executor = executor
        self._writer = writer
        self._remaining: dict[ChunkKey, int] = {}
        self.wake = asyncio.Event()

    # -- bookkeeping called by the executor and the writer ------------------------------------

    def item_done(self, item: WorkItem) -> None:
        key = (item.run_id, item.chunk_no)
        left = self._remaining.get(key)
        if left is None:
            return
        if left <= 1:
            del self._remaining[key]
            self._writer.chunk_finished(key)
            self.wake.set()  # claim the next chunk now: the pool must not run dry
        else:
            self._remaining[key] = left - 1

    def committed(self, done: Sequence[ChunkKey], completed: Sequence[uuid.UUID]) -> None:
        for run_id in completed:
            self._executor.forget_run(run_id)
        if done:
            self.wake.set()

    def chunks_in_hand(self, run_id: uuid.UUID) -> int:
        return sum(1 for key in self._remaining if key[0] == run_id)

    # -- the loop -----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        renew_every = self._config.lease.total_seconds() / 3
        next_renewal = loop.time() + renew_every
        while not stop.is_set():
            try:
                await self.claim_round()
                if loop.time() >= next_renewal:
                    await self.renew()
                    next_renewal = loop.time() + renew_every
            except Exception:
                log.exception("claiming chunks failed; trying again")
            self.wake.clear()
            await wait_any(stop, self.wake, min(self._config.interval, max(0.0, next_renewal - loop.time())))

    async def claim_round(self) -> int:
        """Claim chunks of every active run this replica holds too few of; returns how many."""
        now = self._clock.now()
        open_chunks = (
            exists().where(RunChunk.run_id == Run.id, RunChunk.status == ChunkStatus.PENDING).label("open")
        )
        async with self._sessions() as session:
            active = (
                await session.execute(
                    select(Run.id, Run.gpu_pool, open_chunks).where(
                        Run.status.in_(OPEN), Run.prepared_at.is_not(None)
                    )
                )
            ).all()
        active_ids = {row.id for row in active}
        for run_id in [r for r in list(self._executor.run_ids()) if r not in active_ids]:
            if not self.chunks_in_hand(run_id):
                self._executor.forget_run(run_id)
        claimed = 0
        for row in active:
            if not row.open:
                # Every chunk is done, yet the run is not complete: have its records counted again.
                self._writer.recheck(row.id)
                continue
            if row.gpu_pool not in self._executor.pools:
                continue
            want = self._config.per_run - self.chunks_in_hand(row.id)
            if want > 0:
                claimed += await self._claim_run(row.id, want, now)
        return claimed

    async def _claim_run(self, run_id: uuid.UUID, want: int, now: datetime) -> int:
        """Claim up to ``want`` free chunks of the run in one conditional ``UPDATE ... RETURNING``.

        The chunks are picked by a subquery and the UPDATE checks again that each is still free: on
        PostgreSQL a chunk another replica claimed meanwhile is re-checked after its lock and skipped;
        on SQLite the statement holds the write lock. Either way a chunk has at most one owner."""
        wanted = aliased(RunChunk)
        candidates = (
            select(wanted.chunk_no)
            .where(wanted.run_id == run_id, *_free(wanted, now))
            .order_by(wanted.chunk_no)
            .limit(want)
        )
        still_free = (RunChunk.run_id == run_id, RunChunk.chunk_no.in_(candidates), *_free(RunChunk, now))
        async with transaction(self._sessions) as session:
            chunks = (
                await session.execute(
                    update(RunChunk)
                    .where(*still_free)
                    .values(
                        lease_owner=self._replica,
                        lease_until=self._clock.now() + self._config.lease,
                        claims=RunChunk.claims + 1,
                    )
                    .returning(RunChunk.chunk_no, RunChunk.first_seq, RunChunk.last_seq)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        for chunk in sorted(chunks):
            await self._take(run_id, chunk.chunk_no, chunk.first_seq, chunk.last_seq)
        return len(chunks)

    async def _take(self, run_id: uuid.UUID, chunk_no: int, first: int, last: int) -> None:
        """Queue the chunk's items that have no record yet (after a takeover: only the missing ones)."""
        async with self._sessions() as session:
            if not self._executor.has_run(run_id):
                self._executor.add_run(await _context(session, run_id))
            # Core columns: the rows are read as plain tuples (a chunk holds hundreds of items).
            items, records = RUN_ITEMS.c, RECORDS.c
            missing = (
                await session.execute(
                    select(items.seq, items.item_id, items.prompt, items.messages, items.continuations)
                    .outerjoin(RECORDS, and_(records.run_id == items.run_id, records.seq == items.seq))
                    .where(items.run_id == run_id, items.seq.between(first, last), records.seq.is_(None))
                    .order_by(items.seq)
                )
            ).all()
        key = (run_id, chunk_no)
        if not missing:
            self._writer.chunk_finished(key)
            return
        self._remaining[key] = len(missing)
        self._executor.submit(
            [
                WorkItem(
                    run_id,
                    chunk_no,
                    row.seq,
                    row.item_id,
                    row.prompt,
                    chat_messages(row.messages),
                    continuations=None if row.continuations is None else tuple(row.continuations),
                )
                for row in missing
            ]
        )

    async def renew(self) -> None:
        mine = (RunChunk.lease_owner == self._replica, RunChunk.status == ChunkStatus.PENDING)
        async with transaction(self._sessions) as session:
            # Lock the chunks in (run, chunk) order first, the order the record writer marks them
            # done in: a bare UPDATE locks them in the table's physical order and could deadlock with it.
            await session.execute(
                select(RunChunk.run_id)
                .where(*mine)
                .order_by(RunChunk.run_id, RunChunk.chunk_no)
                .with_for_update()
            )
            await session.execute(
                update(RunChunk).where(*mine).values(lease_until=self._clock.now() + self._config.lease)
            )

    async def release_all(self) -> None:
        """On shutdown: hand every unfinished chunk back at once, instead of after its lease runs out."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(RunChunk)
                .where(RunChunk.lease_owner == self._replica, RunChunk.status == ChunkStatus.PENDING)
                .values(lease_owner=None, lease_until=None)
            )
        self._remaining.clear()


def _free(chunk: type[RunChunk], now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A chunk anyone may claim: pending, and unleased or its lease ran out."""
    return (
        chunk.status == ChunkStatus.PENDING,
        (chunk.lease_owner.is_(None)) | (chunk.lease_until < now),
    )


async def _context(session: AsyncSession, run_id: uuid.UUID) -> RunContext:
    run = await session.get(Run, run_id)
    endpoint = await session.get(Endpoint, run.endpoint_id) if run else None
    if run is None or endpoint is None:
        raise LookupError(f"run {run_id} or its endpoint is gone")
    return RunContext(
        run_id=run.id,
        pool=run.gpu_pool,
        endpoint=address_of(endpoint),
        datatypes=dict(run.input_datatypes or {}),
        batched=run.batched,
        decoding=DecodingParameters.model_validate(run.decoding),
        limits=RunLimits.model_validate(run.limits),
        server_version=run.server_version or "",
        model_version=run.model_version or "",
        team_id=run.team_id,
        chat_template=run.chat_template,
    )
