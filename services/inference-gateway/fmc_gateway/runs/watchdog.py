"""Stuck runs: no progress for ``stuck_after_seconds`` (injectable clock) flags the run, once per episode.

The flag carries what the run waits on: the reason it is waiting (an endpoint down, a readiness
check failing), or, when nothing says so, the state of its chunks (how many are left, who holds
them and until when; none held means no replica is claiming work). Progress clears the flag.

A run WAITING (its endpoint not answering, its items source down) without a stored record for
``wait_limit`` fails with ``wait-limit-exceeded`` and what it waited on: a run never waits forever.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock
from fmc_common.db import transaction
from fmc_common.events.inference import InferenceRunStuck
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.locking import begin_writing
from fmc_gateway.runs.models import ACTIVE, ChunkStatus, FailureCode, Run, RunChunk, RunStatus
from fmc_gateway.runs.service import fail_run
from fmc_gateway.runs.timing import wait_any

log = logging.getLogger(__name__)


class StuckWatchdog:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock,
        stuck_after: timedelta,
        after_commit: Callable[[], None],
        wait_limit: timedelta | None = None,
    ) -> None:
        self._wait_limit = wait_limit
        self._sessions = sessions
        self._outbox = outbox
        self._clock = clock
        self._stuck_after = stuck_after
        self._after_commit = after_commit

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        wake = asyncio.Event()
        while not stop.is_set():
            try:
                await self.check()
            except Exception:
                log.exception("checking for stuck runs failed")
            await wait_any(stop, wake, interval)

    async def check(self) -> list[uuid.UUID]:
        """Flag every active run without progress since the threshold; returns the runs flagged now."""
        now = self._clock.now()
        async with self._sessions() as session:
            candidates = list(
                await session.scalars(
                    select(Run.id).where(
                        Run.status.in_(ACTIVE),
                        Run.stuck_since.is_(None),
                        Run.last_progress_at < now - self._stuck_after,
                    )
                )
            )
        flagged = []
        for run_id in candidates:
            async with transaction(self._sessions) as session:
                if await self._flag(session, run_id, now):
                    flagged.append(run_id)
        failed = await self._fail_overdue(now)
        if flagged or failed:
            self._after_commit()
        return flagged

    async def _fail_overdue(self, now: datetime) -> list[uuid.UUID]:
        """Fail the runs WAITING without progress for longer than the wait limit."""
        if self._wait_limit is None:
            return []
        limit = self._wait_limit
        async with self._sessions() as session:
            candidates = list(
                await session.scalars(
                    select(Run.id).where(Run.status == RunStatus.WAITING, Run.last_progress_at < now - limit)
                )
            )
        failed = []
        for run_id in candidates:
            async with transaction(self._sessions) as session:
                await begin_writing(session)
                run = await session.get(Run, run_id, with_for_update=True)
                if run is None or run.status != RunStatus.WAITING or run.last_progress_at >= now - limit:
                    continue
                reason = (
                    f"the run waited {limit.total_seconds():g} s (FMC_GATEWAY_WAIT_LIMIT_SECONDS) without an "
                    f"answer stored; it waited on: {run.status_reason or 'an unknown cause'}"
                )
                await fail_run(session, self._outbox, run, FailureCode.WAIT_LIMIT, reason, now)
                failed.append(run_id)
            log.warning("run failed: waited too long", extra={"run_id": str(run_id)})
        return failed

    async def _flag(self, session: AsyncSession, run_id: uuid.UUID, now: datetime) -> bool:
        result = await session.execute(
            update(Run)
            .where(
                Run.id == run_id,
                Run.stuck_since.is_(None),
                Run.status.in_(ACTIVE),
                Run.last_progress_at < now - self._stuck_after,
            )
            .values(stuck_since=now)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False  # progressed meanwhile, or another replica flagged it
        run = await session.get(Run, run_id)
        assert run is not None
        waiting_on = run.status_reason or await _chunks_state(session, run, now)
        await self._outbox.add(
            session,
            InferenceRunStuck(
                run_id=run.id,
                stage_id=run.stage_id,
                submission_id=run.submission_id,
                team_id=run.team_id,
                waiting_on=waiting_on[:2000],
                total=run.total,
                answered=run.answered,
                last_progress_at=run.last_progress_at,
                flagged_at=now,
            ),
        )
        log.warning("run is stuck", extra={"run_id": str(run_id), "waiting_on": waiting_on})
        return True


async def _chunks_state(session: AsyncSession, run: Run, now: datetime) -> str:
    if run.status == RunStatus.PENDING:
        if run.prepare_owner is not None and run.prepare_until is not None and run.prepare_until >= now:
            return (
                f"its preparation (readiness check, items fetch) by {run.prepare_owner} has not finished "
                f"(lease until {run.prepare_until.isoformat()})"
            )
        return "its readiness check has not run: no gateway replica with runs enabled is preparing runs"
    pending = select(RunChunk).where(RunChunk.run_id == run.id, RunChunk.status == ChunkStatus.PENDING)
    left = await session.scalar(select(func.count()).select_from(pending.subquery()))
    held = (
        await session.execute(
            select(RunChunk.lease_owner, func.count(), func.max(RunChunk.lease_until))
            .where(
                RunChunk.run_id == run.id,
                RunChunk.status == ChunkStatus.PENDING,
                RunChunk.lease_owner.is_not(None),
                RunChunk.lease_until >= now,
            )
            .group_by(RunChunk.lease_owner)
        )
    ).all()
    if not held:
        return (
            f"{left} chunks have no record yet and no replica holds them: no gateway replica is claiming work"
        )
    holders = ", ".join(f"{owner} ({count} until {until})" for owner, count, until in held)
    return f"{left} chunks have no record yet; held by {holders}, which made no progress"
