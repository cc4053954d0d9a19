"""Checkpoints of the audit trail: its head, signed and published through the outbox, to be kept elsewhere.

A background loop (started by ``main.py`` with the runtime, like the closing scheduler) publishes an
``AuditCheckpointed`` when the trail has grown since the last one and either
``audit_checkpoint_every_entries`` entries were added or ``audit_checkpoint_every_seconds`` passed
(on the runtime's clock); the first tick after a start publishes the current head. Without a key
(``FMC_GRIEVANCE_AUDIT_CHECKPOINT_KEY``) nothing is published. Several replicas may each publish the
same head: a keeper keeps one copy per ``(trail, seq)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from fmc_common.audit import checkpoint
from fmc_common.audit.chain import ChainHead
from fmc_common.db import transaction
from fmc_common.events.grievance import AuditCheckpointed
from fmc_common.runtime import ServiceRuntime
from fmc_grievance.audit import service
from fmc_grievance.settings import GrievanceSettings

log = logging.getLogger(__name__)

TRAIL = "grievance"
# How often the loop looks at the head at most (it is one primary-key read).
LONGEST_TICK_SECONDS = 5.0


@dataclass(frozen=True)
class _Published:
    seq: int
    when: datetime


class AuditCheckpointer:
    def __init__(self, runtime: ServiceRuntime, settings: GrievanceSettings) -> None:
        self._runtime = runtime
        self._key = settings.audit_checkpoint_key
        self._key_id = settings.audit_checkpoint_key_id
        self._every_seconds = settings.audit_checkpoint_every_seconds
        self._every_entries = settings.audit_checkpoint_every_entries
        self._last: _Published | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._key is not None

    async def checkpoint_once(self, *, force: bool = False) -> AuditCheckpointed | None:
        """Publish the head if it is due, or now with ``force`` (an operator's or a test's request)."""
        if self._key is None:
            return None
        now = self._runtime.clock.now()
        async with transaction(self._runtime.sessions) as session:
            head = await service.head_entry(session)
            if head.at is None or not (force or self._due(head, now)):
                return None
            event = AuditCheckpointed(
                trail=TRAIL,
                seq=head.seq,
                hash=head.hash,
                at=head.at,
                checkpointed_at=now,
                algorithm=checkpoint.ALGORITHM,
                key_id=self._key_id,
                signature=checkpoint.sign(self._key.get_secret_value().encode(), TRAIL, head),
            )
            await self._runtime.outbox.add(session, event)
        self._runtime.after_commit()
        self._last = _Published(head.seq, now)
        log.info("audit checkpoint", extra={"seq": head.seq, "hash": head.hash})
        return event

    def _due(self, head: ChainHead, now: datetime) -> bool:
        if self._last is None:
            return True
        grown = head.seq - self._last.seq
        if grown < 0:
            # Only a rewind behind the service's back (or a restore from a backup) moves the head back;
            # the checkpoints kept elsewhere prove it, this line only says so early, once.
            log.error("the audit head went back", extra={"seq": head.seq, "checkpointed_seq": self._last.seq})
            self._last = _Published(head.seq, now)
        if grown <= 0:
            return False
        waited = (now - self._last.when).total_seconds()
        return grown >= self._every_entries or waited >= self._every_seconds

    def start(self) -> None:
        if self._key is None:
            log.warning("no FMC_GRIEVANCE_AUDIT_CHECKPOINT_KEY: the audit trail's head is not published")
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="grievance-audit-checkpoints")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        tick = min(self._every_seconds, LONGEST_TICK_SECONDS)
        while not self._stop.is_set():
            try:
                await self.checkpoint_once()
            except Exception:
                # Nothing is lost: the head stays where it is, and the next tick publishes it.
                log.exception("audit checkpoint failed; retrying at the next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=tick)
