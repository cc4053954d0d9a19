"""The closing scheduler: a background loop that runs the closing service on the runtime's clock.

Several replicas may run it: on PostgreSQL one run at a time holds an advisory lock (the others
wait for it); on SQLite transactions are serial anyway. Whatever happens to a run (a crash,
a restart, a lost lock), the next one closes whatever is due and not yet closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fmc_common.db import transaction
from fmc_common.runtime import ServiceRuntime
from fmc_grievance.closing import repository, service
from fmc_grievance.closing.service import ClosingRun
from fmc_grievance.deps import SCHEDULER, context_of

log = logging.getLogger(__name__)


class ClosingScheduler:
    def __init__(self, runtime: ServiceRuntime, interval_seconds: float) -> None:
        self._runtime = runtime
        self._interval = interval_seconds
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> ClosingRun:
        """One run in one transaction: close due windows, then finished decisions."""
        run = ClosingRun()
        async with transaction(self._runtime.sessions) as session:
            await repository.hold_run_lock(session)
            ctx = context_of(self._runtime, session, SCHEDULER)
            run.windows_closed = await service.close_due_windows(ctx)
            run.decisions_closed = await service.close_finished_decisions(ctx)
        if run.windows_closed or run.decisions_closed:
            self._runtime.after_commit()
            log.info(
                "closing run",
                extra={"windows_closed": run.windows_closed, "decisions_closed": len(run.decisions_closed)},
            )
        return run

    def wake(self) -> None:
        """Run soon (e.g. after the last objection of a decision was decided)."""
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="grievance-closing")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                # Nothing is lost: what was due stays due, and the next run closes it.
                log.exception("closing run failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
