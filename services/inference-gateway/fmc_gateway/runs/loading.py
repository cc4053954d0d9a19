"""Team models on Triton with explicit model control: loaded for their runs, unloaded after them.

With ``triton_model_control=explicit`` the pools' Triton servers start with
``--model-control-mode=explicit`` and load nothing: a pod holds only the models of runs in progress.

* Before a run's readiness check, the preparer asks ``ensure_loaded``: on every pod behind the
  endpoint's address (``TritonPods``) that does not have the model ready, Triton's repository API loads
  it (``load_model``). A server that does not answer leaves the run WAITING with the reason; a server
  that refuses the load (no such model in the repository, a broken config) fails the run
  (``model-not-ready``) with Triton's message.
* ``sweep`` (every ``triton_model_sweep_seconds``) counts, for each model the gateway loaded, the runs
  still in progress on it (pending, waiting or running, on any replica: the count is in the database,
  so it holds across replicas and restarts). A model with none for ``triton_model_idle_seconds`` is
  unloaded from every pod; a model with runs is loaded again on any pod that lost it (a restarted pod).

The mark before a load, and the count and unload of the sweep, happen under the endpoint row's lock
(``SELECT ... FOR UPDATE``): a run that starts while its model is being unloaded waits for the unload
and then loads it again; a sweep that comes after the mark counts the run and keeps the model.

Arena battles have no run: ``holding`` loads a contender's model lazily (the first battle, through
``ensure_loaded``) and holds it while the battle answers. Holds are counted per replica, in memory; while
a replica holds a model, each of its sweep periods first renews the model's mark (``model_state_at``),
so no replica's sweep finds it idle, and its own sweep leaves it alone. The last hold to end renews the
mark once more: the model stays loaded while battles keep coming and is unloaded
``triton_model_idle_seconds`` after the last one (a replica that dies stops renewing: the same).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import tritonclient.grpc.aio as grpc_aio
import tritonclient.http.aio as http_aio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock
from fmc_common.events.inference import InferenceProtocol, RunEndpoint
from fmc_gateway.endpoints import repository
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.runs.models import ACTIVE, Run
from fmc_gateway.triton.inference import GRPC_CHANNEL_ARGS, EndpointAddress
from fmc_gateway.triton.pods import TritonPods
from fmc_gateway.triton.repository import ModelControlRefused, control_model

log = logging.getLogger(__name__)

LOADED = "loaded"


def _address(endpoint: Endpoint) -> EndpointAddress:
    return EndpointAddress(
        endpoint.url, endpoint.protocol, endpoint.model_name, endpoint.model_version, endpoint.convention
    )


async def _is_ready(address: EndpointAddress, timeout: float) -> bool:
    """Whether the pod at ``address`` has the model ready (False when it does not answer)."""
    client = (
        grpc_aio.InferenceServerClient(address.host_port, ssl=address.ssl, channel_args=GRPC_CHANNEL_ARGS)
        if address.protocol == InferenceProtocol.GRPC
        else http_aio.InferenceServerClient(address.host_port, ssl=address.ssl)
    )
    try:
        async with asyncio.timeout(timeout):
            return bool(await client.is_model_ready(address.model_name))
    except Exception:
        return False
    finally:
        await client.close()


class ModelLoader:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        pods: TritonPods,
        load_timeout: float,
        check_timeout: float,
        idle: timedelta,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._pods = pods
        self._load_timeout = load_timeout
        self._check_timeout = check_timeout
        self._idle = idle
        self._held: Counter[uuid.UUID] = Counter()
        """Endpoints whose model battles on this replica are using, with how many battles."""
        self._loading: dict[uuid.UUID, asyncio.Lock] = {}

    def _pod_addresses(self, address: EndpointAddress) -> list[EndpointAddress]:
        return [dataclasses.replace(address, url=url) for url in self._pods.pod_urls(address.url)]

    async def _load_everywhere(self, address: EndpointAddress) -> list[str]:
        """Load the model on each pod that lacks it; the pods it was loaded on."""
        loaded = []
        for pod in self._pod_addresses(address):
            if not await _is_ready(pod, self._check_timeout):
                await control_model(pod, True, self._load_timeout)
                loaded.append(pod.host_port)
        return loaded

    async def ensure_loaded(self, endpoint_id: uuid.UUID) -> None:
        """The endpoint's model ready on every pod (else ``TritonUnavailable``, ``ModelControlRefused``)."""
        # Marked first, under the row's lock, then loaded outside the transaction (a load may take
        # minutes: no connection or lock is held meanwhile). The run asking is in progress, so from
        # this commit on the sweep counts it and leaves the model alone; a sweep that took the lock
        # first has finished its unload before this mark.
        async with self._sessions() as session, session.begin():
            endpoint = await _locked(session, endpoint_id)
            if endpoint is None:
                return
            address = _address(endpoint)
            endpoint.model_state = LOADED
            endpoint.model_state_at = self._clock.now()
        loaded = await self._load_everywhere(address)
        if loaded:
            log.info("model loaded", extra={"model": address.label, "pods": loaded})

    @asynccontextmanager
    async def holding(self, endpoint: RunEndpoint) -> AsyncIterator[None]:
        """The endpoint's model loaded on every pod and kept while the block runs (an arena battle).

        Raises what ``ensure_loaded`` raises (``TritonUnavailable``, ``ModelControlRefused``)."""
        async with self._sessions() as session, session.begin():
            endpoint_id = (await repository.upsert(session, endpoint, self._clock.now())).id
        self._held[endpoint_id] += 1
        try:
            # One load at a time per model on this replica: concurrent first battles share it.
            async with self._loading.setdefault(endpoint_id, asyncio.Lock()):
                await self.ensure_loaded(endpoint_id)
            yield
        finally:
            self._held[endpoint_id] -= 1
            if self._held[endpoint_id] <= 0:
                del self._held[endpoint_id]
                await self._renew([endpoint_id])  # idle from the end of the last battle

    @property
    def held(self) -> set[uuid.UUID]:
        return set(self._held)

    async def _renew(self, endpoint_ids: list[uuid.UUID]) -> None:
        """Mark the models as in use now (the sweep of any replica measures idleness from the mark)."""
        if not endpoint_ids:
            return
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(Endpoint)
                    .where(Endpoint.id.in_(endpoint_ids), Endpoint.model_state == LOADED)
                    .values(model_state_at=self._clock.now())
                )
        except Exception as exc:  # the next period renews again; the idle time is the margin
            log.warning("renewing held models failed", extra={"error": repr(exc)})

    async def sweep(self) -> list[str]:
        """Unload idle models and reload lost ones; the labels of the models unloaded. Models held by
        this replica's battles are renewed, not swept."""
        held = self.held
        await self._renew(sorted(held))
        async with self._sessions() as session:
            candidates = [
                endpoint_id
                for endpoint_id in (
                    await session.scalars(select(Endpoint.id).where(Endpoint.model_state == LOADED))
                ).all()
                if endpoint_id not in held
            ]
        unloaded = []
        for endpoint_id in candidates:
            try:
                label = await self._sweep_one(endpoint_id)
            except Exception as exc:
                log.warning("model sweep failed", extra={"endpoint_id": str(endpoint_id), "error": repr(exc)})
                continue
            if label is not None:
                unloaded.append(label)
        return unloaded

    async def _sweep_one(self, endpoint_id: uuid.UUID) -> str | None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            endpoint = await _locked(session, endpoint_id)
            if endpoint is None or endpoint.model_state != LOADED:
                return None
            address = _address(endpoint)
            same_model = select(Endpoint.id).where(
                Endpoint.url == endpoint.url, Endpoint.model_name == endpoint.model_name
            )
            active = await session.scalar(
                select(func.count())
                .select_from(Run)
                .where(Run.endpoint_id.in_(same_model), Run.status.in_(ACTIVE))
            )
            if active:
                await self._load_everywhere(address)  # a pod restarted since has lost it
                endpoint.model_state_at = now
                return None
            last_finished = await session.scalar(
                select(func.max(Run.finished_at)).where(Run.endpoint_id.in_(same_model))
            )
            # Another row may name the model on the same server under its other protocol's port (an
            # arena contender over HTTP): its mark counts too.
            latest_mark = await session.scalar(
                select(func.max(Endpoint.model_state_at)).where(
                    Endpoint.model_name == endpoint.model_name, Endpoint.model_state == LOADED
                )
            )
            marks = (endpoint.model_state_at, last_finished, latest_mark)
            idle_since = max(t for t in marks if t is not None)
            if now - idle_since < self._idle:
                return None
            for pod in self._pod_addresses(address):
                try:
                    await control_model(pod, False, self._load_timeout)
                except ModelControlRefused as exc:  # e.g. a load that had failed: nothing to unload
                    log.info("unload refused", extra={"model": address.label, "error": exc.detail})
            endpoint.model_state = None
            endpoint.model_state_at = now
        log.info("model unloaded: no run in progress", extra={"model": address.label})
        return address.label

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                await self.sweep()


async def _locked(session: AsyncSession, endpoint_id: uuid.UUID) -> Endpoint | None:
    """The endpoint row, locked until the transaction ends (SQLite: its one writer at a time)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE; a write takes its database lock for the transaction.
        await session.execute(update(Endpoint).where(Endpoint.id == endpoint_id).values(id=endpoint_id))
    result = await session.execute(
        select(Endpoint)
        .where(Endpoint.id == endpoint_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()
