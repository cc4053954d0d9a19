"""Preparing a run: the readiness check, the items fetch, then items and chunks stored in one transaction.

Any replica may prepare any pending run: it takes a short lease on the run row (a conditional
UPDATE, so two replicas never prepare the same run at once). A server that does not answer, or an
items source that does not, leaves the run WAITING with the reason, and it is tried again later;
a model that is not ready or does not fit the contract, or a wrong items document, fails the run.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock
from fmc_common.db import transaction
from fmc_common.events.inference import (
    RAW_TEXT_CONVENTIONS,
    DecodingParameters,
    RunScoring,
    ServingConvention,
)
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.endpoints import service as endpoints
from fmc_gateway.endpoints.loglikelihood import check_loglikelihood
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.endpoints.readiness import Readiness, ReadinessCode
from fmc_gateway.locking import begin_writing
from fmc_gateway.runs.bulk import SqliteBulkInsert
from fmc_gateway.runs.items import ItemLine, ItemsInvalid, ItemsPolicy, ItemsUnavailable, fetch_items
from fmc_gateway.runs.loading import ModelLoader
from fmc_gateway.runs.models import ChunkStatus, FailureCode, Run, RunChunk, RunItem, RunStatus
from fmc_gateway.runs.service import WaitCause, fail_run, pause_run
from fmc_gateway.runs.timing import wait_any
from fmc_gateway.triton.client import TritonUnavailable
from fmc_gateway.triton.hosts import TritonHostNotAllowed, TritonHosts
from fmc_gateway.triton.inference import EndpointAddress
from fmc_gateway.triton.repository import ModelControlRefused

log = logging.getLogger(__name__)
# Core inserts for the items: the ORM's bulk path costs more per row, and every item of a run is stored.
RUN_ITEMS = cast(Table, RunItem.__table__)


CHUNKS_PER_RUN = 16


def chunk_items(total: int, smallest: int, largest: int) -> int:
    """Items per chunk of a run of ``total`` items: ``smallest``, or about a sixteenth of the run
    when that is more, up to ``largest``. Each chunk costs a claim (several statements) and its
    done-marking; sixteen chunks still let several replicas, each holding a few, share a run."""
    return max(smallest, min(-(-total // CHUNKS_PER_RUN), largest))


@dataclass(frozen=True)
class PreparerConfig:
    chunk_size: int
    chunk_size_max: int
    lease: timedelta
    retry: timedelta
    readiness_timeout: float
    items: ItemsPolicy
    hosts: TritonHosts


def address_of(endpoint: Endpoint) -> EndpointAddress:
    return EndpointAddress(
        url=endpoint.url,
        protocol=endpoint.protocol,
        model_name=endpoint.model_name,
        model_version=endpoint.model_version,
        convention=endpoint.convention,
    )


class RunPreparer:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock,
        replica: str,
        config: PreparerConfig,
        after_commit: Callable[[], None],
        models: ModelLoader | None = None,
    ) -> None:
        self._models = models
        self._sessions = sessions
        self._outbox = outbox
        self._clock = clock
        self._replica = replica
        self._config = config
        self._after_commit = after_commit
        dialect = sessions.kw["bind"].dialect
        self._sqlite_items = (
            SqliteBulkInsert(RUN_ITEMS, sqlite_insert(RUN_ITEMS), dialect)
            if dialect.name == "sqlite"
            else None
        )

    async def claim(self) -> list[uuid.UUID]:
        """Runs waiting to be prepared whose lease this replica took."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            candidates = list(
                await session.scalars(
                    select(Run.id)
                    .where(
                        Run.prepared_at.is_(None),
                        Run.status.in_([RunStatus.PENDING, RunStatus.WAITING]),
                        (Run.prepare_until.is_(None)) | (Run.prepare_until < now),
                    )
                    .order_by(Run.accepted_at)
                    .limit(4)
                )
            )
        claimed = []
        for run_id in candidates:
            async with transaction(self._sessions) as session:
                result = await session.execute(
                    update(Run)
                    .where(
                        Run.id == run_id,
                        Run.prepared_at.is_(None),
                        (Run.prepare_until.is_(None)) | (Run.prepare_until < now),
                    )
                    .values(prepare_owner=self._replica, prepare_until=now + self._config.lease)
                )
            if getattr(result, "rowcount", 0) == 1:
                claimed.append(run_id)
        return claimed

    async def prepare(self, run_id: uuid.UUID) -> None:
        async with transaction(self._sessions) as session:
            run = await session.get(Run, run_id)
            endpoint = await session.get(Endpoint, run.endpoint_id) if run else None
            if run is None or endpoint is None:
                return
            address = address_of(endpoint)
            decoding = DecodingParameters.model_validate(run.decoding)
            uri, count, sha256 = run.items_uri, run.total, run.items_sha256
            template = run.chat_template
            scoring = run.scoring or RunScoring.GENERATE
            endpoint_id = endpoint.id
        if self._models is not None and not await self._load(run_id, endpoint_id, address):
            return
        readiness = await self._ready(run_id, address, decoding, scoring)
        if readiness is None:
            return
        try:
            items = await fetch_items(uri, count, sha256, self._config.items)
        except ItemsUnavailable as exc:
            await self._wait(run_id, f"items source: {exc}", readiness, WaitCause.ITEMS_SOURCE_UNAVAILABLE)
            return
        except ItemsInvalid as exc:
            await self._fail(
                run_id, FailureCode.ITEMS_INVALID, f"the items of the run cannot be used: {exc}", readiness
            )
            return
        unrenderable = _misshapen(items, scoring) or _unrenderable(items, address.convention, template)
        if unrenderable is not None:
            await self._fail(run_id, FailureCode.ITEMS_INVALID, unrenderable, readiness)
            return
        await self._store(run_id, items, readiness)

    async def _ready(
        self, run_id: uuid.UUID, address: EndpointAddress, decoding: DecodingParameters, scoring: RunScoring
    ) -> Readiness | None:
        """The readiness check (for a log-likelihood run, with the log-probs check); None when the run
        waits (unreachable, not allowed) or failed (not ready, a misfit): nothing more to do now."""
        try:
            readiness = await endpoints.check(
                self._config.hosts, address, decoding, self._config.readiness_timeout
            )
            if readiness.ok and scoring == RunScoring.LOGLIKELIHOOD:
                timeout = self._config.readiness_timeout
                readiness = await check_loglikelihood(address, readiness, decoding, timeout)
        except TritonHostNotAllowed as exc:
            # Accepted under other settings: no connection now; it resumes once the server is configured.
            reason = f"the endpoint {address.host_port}: {exc.detail}"
            await self._wait(
                run_id,
                reason,
                Readiness(False, ReadinessCode.UNREACHABLE, reason),
                WaitCause.ENDPOINT_NOT_ALLOWED,
            )
            return None
        if not readiness.reachable:
            reason = f"readiness check: {readiness.reason}"
            await self._wait(run_id, reason, readiness, WaitCause.ENDPOINT_UNREACHABLE)
            return None
        if not readiness.ok:
            code = FailureCode(readiness.code or ReadinessCode.NOT_READY)  # reachable: not ready or a misfit
            await self._fail(run_id, code, readiness.reason or "", readiness)
            return None
        return readiness

    async def _load(self, run_id: uuid.UUID, endpoint_id: uuid.UUID, address: EndpointAddress) -> bool:
        """Explicit model control: the model loaded on the pool's pods before the readiness check. False
        when the run waits (Triton not answering, a server not allowed) or failed (the load refused)."""
        assert self._models is not None
        try:
            self._config.hosts.check(address.url)
            await self._models.ensure_loaded(endpoint_id)
        except TritonHostNotAllowed as exc:
            reason = f"the endpoint {address.host_port}: {exc.detail}"
            down = Readiness(False, ReadinessCode.UNREACHABLE, reason)
            await self._wait(run_id, reason, down, WaitCause.ENDPOINT_NOT_ALLOWED)
            return False
        except TritonUnavailable as exc:
            reason = f"loading the model '{address.model_name}': {exc.detail}"
            await self._wait(
                run_id,
                reason,
                Readiness(False, ReadinessCode.UNREACHABLE, reason),
                WaitCause.ENDPOINT_UNREACHABLE,
            )
            return False
        except ModelControlRefused as exc:
            reason = f"loading the model '{address.model_name}' failed: {exc.detail}"
            await self._fail(
                run_id, FailureCode.MODEL_NOT_READY, reason, Readiness(True, ReadinessCode.NOT_READY, reason)
            )
            return False
        return True

    async def _store(self, run_id: uuid.UUID, items: list[ItemLine], readiness: Readiness) -> None:
        now = self._clock.now()
        size = chunk_items(len(items), self._config.chunk_size, self._config.chunk_size_max)
        async with transaction(self._sessions) as session:
            await begin_writing(session)
            run = await session.get(Run, run_id, with_for_update=True)
            if run is None or run.prepared_at is not None or run.prepare_owner != self._replica:
                return  # another replica took over after our lease ran out
            rows = [
                {
                    "run_id": run_id,
                    "seq": i,
                    "item_id": it.item_id,
                    "prompt": it.prompt if it.context is None else it.context,
                    "messages": None if it.messages is None else [m.model_dump() for m in it.messages],
                    "continuations": None if it.continuations is None else list(it.continuations),
                }
                for i, it in enumerate(items)
            ]
            for start in range(0, len(rows), 500):
                # In slices: the event loop keeps serving the runs already in progress meanwhile.
                part = rows[start : start + 500]
                if self._sqlite_items is not None:
                    connection = await session.connection()
                    await connection.exec_driver_sql(
                        self._sqlite_items.sql, self._sqlite_items.parameters(part)
                    )
                else:
                    await session.execute(insert(RUN_ITEMS), part)
            await session.execute(
                insert(RunChunk),
                [
                    {
                        "run_id": run_id,
                        "chunk_no": n,
                        "first_seq": start,
                        "last_seq": min(start + size, len(items)) - 1,
                        "status": ChunkStatus.PENDING,
                        "claims": 0,
                    }
                    for n, start in enumerate(range(0, len(items), size))
                ],
            )
            run.status = RunStatus.RUNNING
            run.status_reason = None
            run.prepared_at = now
            run.last_progress_at = now
            run.stuck_since = None
            run.server_version = readiness.server_version
            run.model_version = readiness.model_version
            run.serving_stack = readiness.serving_stack or None
            run.input_datatypes = dict(readiness.datatypes)
            run.batched = readiness.batched
            run.prepare_owner = None
            run.prepare_until = None
            await _note_check(session, run.endpoint_id, readiness, now)
        self._after_commit()

    async def _wait(self, run_id: uuid.UUID, reason: str, readiness: Readiness, cause: WaitCause) -> None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            await begin_writing(session)
            run = await session.get(Run, run_id, with_for_update=True)
            if run is None or run.prepared_at is not None or run.status == RunStatus.FAILED:
                return
            told = await pause_run(
                session,
                self._outbox,
                run,
                cause,
                f"{reason}; trying again from {(now + self._config.retry).isoformat()}",
                now,
            )
            run.prepare_owner = None
            run.prepare_until = now + self._config.retry
            await _note_check(session, run.endpoint_id, readiness, now)
        if told:
            self._after_commit()
        log.warning("run waits before it can start", extra={"run_id": str(run_id), "reason": reason})

    async def _fail(self, run_id: uuid.UUID, code: FailureCode, reason: str, readiness: Readiness) -> None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            await begin_writing(session)
            run = await session.get(Run, run_id, with_for_update=True)
            if run is None or run.prepared_at is not None or run.status == RunStatus.FAILED:
                return
            await fail_run(session, self._outbox, run, code, reason, now)
            run.prepare_owner = None
            run.prepare_until = None
            await _note_check(session, run.endpoint_id, readiness, now)
        self._after_commit()
        log.warning("run failed before it started", extra={"run_id": str(run_id), "code": code})

    async def run(self, stop: asyncio.Event, wake: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                for run_id in await self.claim():
                    await self.prepare_or_note(run_id)
            except Exception:
                log.exception("preparing runs failed; trying again")
            wake.clear()
            await wait_any(stop, wake, interval)

    async def prepare_or_note(self, run_id: uuid.UUID) -> None:
        """Prepare one run; an unexpected failure is kept on that run (its status says what failed,
        and it is tried again after the retry delay) and never stops the preparation of the others."""
        try:
            await self.prepare(run_id)
        except Exception as exc:
            log.exception("preparing a run failed", extra={"run_id": str(run_id)})
            try:
                await self._note_failure(run_id, f"preparing the run failed: {type(exc).__name__}: {exc}")
            except Exception:
                log.exception("noting why a run could not be prepared failed")

    async def _note_failure(self, run_id: uuid.UUID, reason: str) -> None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            await begin_writing(session)
            run = await session.get(Run, run_id, with_for_update=True)
            if run is None or run.prepared_at is not None or run.status == RunStatus.FAILED:
                return
            run.status_reason = f"{reason[:1500]}; trying again from {(now + self._config.retry).isoformat()}"
            run.prepare_owner = None
            run.prepare_until = now + self._config.retry


def _misshapen(items: list[ItemLine], scoring: RunScoring) -> str | None:
    """Why the items do not fit the run's scoring (a log-likelihood run takes contexts and
    continuations only, any other run none of them), or None."""
    loglikelihood = scoring == RunScoring.LOGLIKELIHOOD
    odd = next((item for item in items if item.loglikelihood != loglikelihood), None)
    if odd is None:
        return None
    if loglikelihood:
        return (
            f"the items of the run cannot be used: a loglikelihood run takes items of item_id, context "
            f"and continuations; item {odd.item_id!r} has a prompt or messages"
        )
    return (
        f"the items of the run cannot be used: item {odd.item_id!r} has a context and continuations, "
        f"which only a run requested with scoring loglikelihood answers"
    )


def _unrenderable(items: list[ItemLine], convention: ServingConvention, template: str | None) -> str | None:
    """Why a raw-text model cannot be asked these items (chat messages and no template to render
    them with), or None. Checked before anything is stored: the run fails, no other run waits."""
    if convention not in RAW_TEXT_CONVENTIONS or template is not None:
        return None
    chat = next((item for item in items if item.messages is not None), None)
    if chat is None:
        return None
    return (
        f"the items of the run cannot be used: they carry chat messages (item {chat.item_id!r} first) "
        f"and the submission names no chat template to render them for its {convention} endpoint "
        f"(set the endpoint's chat_template, or serve the model as openai-chat)"
    )


async def _note_check(
    session: AsyncSession, endpoint_id: uuid.UUID, readiness: Readiness, now: datetime
) -> None:
    await session.execute(
        update(Endpoint)
        .where(Endpoint.id == endpoint_id)
        .values(
            last_checked_at=now,
            last_check_ok=readiness.ok,
            last_check_reason=readiness.reason,
            server_version=readiness.server_version or None,
        )
    )
