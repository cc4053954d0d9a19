"""Resumable and horizontally scalable: replicas share a run through chunk leases; a replica killed
with SIGKILL half way is taken over, and only the items without a record are answered again.

"Answered" is counted by Triton itself (its inference statistics), not by the gateway.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fmc_common import db
from fmc_common.dev_auth import auth_env
from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import GpuPool
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.main import create_app
from fmc_gateway.runs.models import RunChunk
from gateway.conftest import SettingsFactory
from gateway.helpers import (
    finished,
    of_type,
    request_run,
    run_body,
    run_events,
    stored_records,
    triton_successes,
    wait_for_run,
    write_items,
)
from support.databases import DatabaseFactory
from support.services import serving

pytestmark = [pytest.mark.broker, pytest.mark.triton]


class TestTwoReplicas:
    async def test_two_replicas_share_one_run_no_item_answered_twice_none_lost(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        url = await database_factory.create("gateway")
        settings = {"chunk_size": 50, "chunks_in_hand_per_run": 2}
        first = await gateway_factory(gateway_settings(url, **settings))
        second = await gateway_factory(gateway_settings(url, **settings))
        items, _ = write_items(tmp_path, 2000)
        before = await triton_successes(triton.grpc_url)

        run = await request_run(first, auth_settings, run_body(items, 2000, triton.grpc_url))
        done = await wait_for_run(second, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed"
        assert await triton_successes(triton.grpc_url) - before == 2000  # none twice
        records = await stored_records(url, run["id"])
        assert len(records) == 2000  # none lost
        assert len({item_id for item_id, _, _ in records}) == 2000
        by_replica = Counter(replica for _, replica, _ in records)
        assert len(by_replica) == 2, by_replica  # both did a share
        assert min(by_replica.values()) >= 200, by_replica


def _replica_env(settings: dict[str, str], http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")}
    env |= settings | {"FMC_GATEWAY_HTTP_PORT": str(http_port), "FMC_GATEWAY_GRPC_PORT": str(free_port())}
    return env


@contextmanager
def replica(settings: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m fmc_gateway serve`` as its own process, as the dev runner starts it."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fmc_gateway", "serve"],
            env=_replica_env(settings, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # graceful: the outbox is flushed
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


async def wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=2) as client:
        while loop.time() < deadline:
            assert process.poll() is None, _tail(log)
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the replica never became ready:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def half_way(run: dict[str, Any]) -> bool:
    return bool(run["answered"] >= 800)


def completed(events: list[Envelope]) -> bool:
    return bool(of_type(events, "inference-run-completed"))


class TestSigkill:
    async def test_a_run_killed_half_way_ends_with_exactly_2000_records_answering_only_the_missing(
        self,
        database_factory: DatabaseFactory,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
    ) -> None:
        url = await database_factory.create("gateway")
        settings = {
            "FMC_GATEWAY_DATABASE_URL": url,
            "FMC_GATEWAY_INTAKE_ENABLED": "false",
            "FMC_GATEWAY_ITEMS_DIRECTORY": str(tmp_path),
            "FMC_GATEWAY_CHUNK_SIZE": "100",
            "FMC_GATEWAY_CHUNK_LEASE_SECONDS": "2",
            "FMC_GATEWAY_CLAIM_INTERVAL_SECONDS": "0.05",
            "FMC_GATEWAY_RECORD_FLUSH_SECONDS": "0.05",
            # Slow enough to be caught half way by a test polling every 20 ms.
            "FMC_GATEWAY_POOL_CAPACITY": '{"H100": 1, "B200": 1}',
            "FMC_GATEWAY_TRITON_URL": triton.grpc_url,
            "FMC_KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
            **auth_env(auth_settings),
        }
        items, _ = write_items(tmp_path, 2000)
        before = await triton_successes(triton.grpc_url)
        log = tmp_path / "replicas.log"

        with replica(settings, log) as (process, base_url):
            await wait_ready(base_url, process, log)
            async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
                run = await request_run(client, auth_settings, run_body(items, 2000, triton.grpc_url))
                await wait_for_run(
                    client, auth_settings, run["id"], lambda r: r["answered"] >= 800, interval=0.02
                )
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        await asyncio.sleep(0.5)  # requests that were in flight reach Triton's statistics
        answered_before_kill = await triton_successes(triton.grpc_url) - before
        kept = await stored_records(url, run["id"])
        assert 800 <= len(kept) < 2000
        assert answered_before_kill >= len(kept)

        with replica(settings, log) as (process, base_url):
            await wait_ready(base_url, process, log)
            async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
                done = await wait_for_run(client, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed"
        assert (done["answered"], done["errored"]) == (2000, 0)
        records = await stored_records(url, run["id"])
        assert len(records) == 2000
        assert len({item_id for item_id, _, _ in records}) == 2000
        answered_after_restart = await triton_successes(triton.grpc_url) - before - answered_before_kill
        assert answered_after_restart == 2000 - len(kept)  # only the missing items, each once
        assert set(records) >= set(kept)  # what was stored before the kill is kept as it was
        events = await run_events(kafka_settings.bootstrap_servers, run["id"], completed)
        assert len(of_type(events, "inference-run-completed")) == 1


class TestGracefulStop:
    async def test_a_replica_stopped_mid_run_hands_its_chunks_back_and_loses_no_answer(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        url = await database_factory.create("gateway")
        slow = {"pool_capacity": {GpuPool.H100: 1, GpuPool.B200: 1}, "chunk_lease_seconds": 60}
        items, _ = write_items(tmp_path, 1000)
        before = await triton_successes(triton.grpc_url)
        async with serving(create_app(gateway_settings(url, **slow))) as first:
            run = await request_run(first, auth_settings, run_body(items, 1000, triton.grpc_url))
            await wait_for_run(first, auth_settings, run["id"], lambda r: r["answered"] >= 200, interval=0.02)
        # Stopped (SIGTERM's path): what was answered is stored, and no chunk stays leased.
        answered_by_first = await triton_successes(triton.grpc_url) - before
        assert len(await stored_records(url, run["id"])) == answered_by_first
        assert await leased_chunks(url, run["id"]) == 0

        # The leases were 60 s long: only the hand-back lets the next replica go on at once.
        second = await gateway_factory(gateway_settings(url))
        done = await wait_for_run(second, auth_settings, run["id"], finished, timeout=30)

        assert done["status"] == "completed"
        assert await triton_successes(triton.grpc_url) - before == 1000  # nothing answered twice


async def leased_chunks(database_url: str, run_id: str) -> int:
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(RunChunk)
                .where(
                    RunChunk.run_id == uuid.UUID(run_id),
                    RunChunk.status == "pending",
                    RunChunk.lease_owner.is_not(None),
                )
            )
            return int(count or 0)
    finally:
        await engine.dispose()
