"""Claiming chunks: one conditional UPDATE ... RETURNING per run gives each free chunk one owner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update

from fmc_common.clock import SystemClock
from fmc_common.db import transaction
from fmc_gateway.runs.claims import ChunkClaimer, ClaimConfig
from fmc_gateway.runs.models import RunChunk
from gateway.helpers import a_run_with_leased_chunks, migrated_gateway_sessions
from support.databases import DatabaseFactory


class _Claimer(ChunkClaimer):
    """The real claim; the chunks taken are kept instead of queued to an executor."""

    def __init__(self, sessions: Any, replica: str) -> None:
        super().__init__(
            sessions=sessions,
            clock=SystemClock(),
            replica=replica,
            config=ClaimConfig(timedelta(seconds=30), 3, 0.1),
            executor=cast(Any, None),
            writer=cast(Any, None),
        )
        self.taken: list[tuple[int, int, int]] = []

    async def _take(self, run_id: uuid.UUID, chunk_no: int, first: int, last: int) -> None:
        self.taken.append((chunk_no, first, last))


class TestClaims:
    async def test_free_chunks_are_claimed_once_each_and_live_leases_are_left_alone(
        self, database_factory: DatabaseFactory
    ) -> None:
        async with migrated_gateway_sessions(database_factory) as sessions:
            run_id = await a_run_with_leased_chunks(sessions, 7, "replica-b")
            now = datetime.now(UTC)
            async with transaction(sessions) as session:
                # Chunks 0, 1, 4, 5 unleased; 2's lease ran out; 3 and 6 still leased by replica-b.
                for chunk_no, until in (
                    (0, None),
                    (1, None),
                    (2, now - timedelta(seconds=1)),
                    (4, None),
                    (5, None),
                ):
                    await session.execute(
                        update(RunChunk)
                        .where(RunChunk.run_id == run_id, RunChunk.chunk_no == chunk_no)
                        .values(lease_owner=None if until is None else "replica-dead", lease_until=until)
                    )
            a, c = _Claimer(sessions, "replica-a"), _Claimer(sessions, "replica-c")

            counts = await asyncio.gather(a._claim_run(run_id, 3, now), c._claim_run(run_id, 3, now))
            rest = await c._claim_run(run_id, 3, datetime.now(UTC))  # whatever c missed, if any

            async with sessions() as session:
                chunks = {
                    chunk.chunk_no: (chunk.lease_owner, chunk.claims)
                    for chunk in await session.scalars(select(RunChunk).where(RunChunk.run_id == run_id))
                }
            mine_a = {chunk_no for chunk_no, _, _ in a.taken}
            mine_c = {chunk_no for chunk_no, _, _ in c.taken}
            assert counts[0] == len(a.taken) <= 3
            assert counts[1] + rest == len(c.taken)
            assert not mine_a & mine_c
            assert mine_a | mine_c == {0, 1, 2, 4, 5}
            assert all(first == last == chunk_no for chunk_no, first, last in a.taken + c.taken)
            for chunk_no in mine_a:
                assert chunks[chunk_no] == ("replica-a", 2)
            for chunk_no in mine_c:
                assert chunks[chunk_no] == ("replica-c", 2)
            assert chunks[3] == chunks[6] == ("replica-b", 1)
            assert await c._claim_run(run_id, 3, datetime.now(UTC)) == 0  # nothing free is left
