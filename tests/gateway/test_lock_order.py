"""Lease renewal and the record writer lock a replica's chunks in the same (run, chunk) order: no deadlock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import update

from fmc_common.clock import SystemClock
from fmc_common.db import transaction
from fmc_gateway.runs.claims import ChunkClaimer, ClaimConfig
from fmc_gateway.runs.models import ChunkStatus, RunChunk
from gateway.helpers import a_run_with_leased_chunks, migrated_gateway_sessions
from support.databases import DatabaseFactory

REPLICA = "replica-a"


class TestLockOrder:
    async def test_renewing_leases_while_chunks_are_marked_done_in_order_does_not_deadlock(
        self, database_factory: DatabaseFactory
    ) -> None:
        async with migrated_gateway_sessions(database_factory) as sessions:
            run_id = await a_run_with_leased_chunks(sessions, 4, REPLICA)
            # Earlier updates move chunk 0 after the others, in the table and in the status index
            # (a change of status gets a new index entry): PostgreSQL now meets it last.
            for status in (ChunkStatus.DONE, ChunkStatus.PENDING):
                async with transaction(sessions) as session:
                    await session.execute(
                        update(RunChunk)
                        .where(RunChunk.run_id == run_id, RunChunk.chunk_no == 0)
                        .values(status=status)
                    )
            claimer = ChunkClaimer(
                sessions=sessions,
                clock=SystemClock(),
                replica=REPLICA,
                config=ClaimConfig(timedelta(seconds=30), 2, 0.1),
                executor=cast(Any, None),
                writer=cast(Any, None),
            )

            async def mark(session: Any, chunk_no: int) -> None:
                await session.execute(
                    update(RunChunk)
                    .where(RunChunk.run_id == run_id, RunChunk.chunk_no == chunk_no)
                    .values(status=ChunkStatus.DONE, lease_owner=None, lease_until=None)
                )

            # The record writer marks chunks done in (run, chunk) order, in one transaction.
            async with transaction(sessions) as session:
                await mark(session, 0)
                renewal = asyncio.create_task(claimer.renew())
                await asyncio.sleep(0.5)  # the renewal now waits on chunk 0
                await mark(session, 1)
            await asyncio.wait_for(renewal, timeout=10)
