"""Helpers of the gateway tests: items documents, run requests, waiting on runs, reading events, a
migrated database holding runs and their chunks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import tritonclient.grpc.aio as grpc_aio
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common import db, migrations
from fmc_common.auth import Role
from fmc_common.db import transaction
from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import GpuPool, InferenceProtocol
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.main import MIGRATIONS
from fmc_gateway.runs.models import ChunkStatus, ItemRecord, Run, RunChunk, RunStatus
from support.databases import DatabaseFactory
from support.eventually import eventually
from support.services import bearer

SUITE_HASH = hashlib.sha256(b"demo suite").hexdigest()


def write_items(directory: Path, count: int, name: str | None = None) -> tuple[Path, str]:
    """A JSON Lines items document of ``count`` free-text prompts; returns its path and sha256."""
    path = directory / (name or f"items-{uuid.uuid4().hex[:8]}.jsonl")
    lines = [
        json.dumps({"item_id": f"item-{i:05d}", "prompt": f"Question: what follows {i} and {i + 1} here"})
        for i in range(count)
    ]
    raw = ("\n".join(lines) + "\n").encode()
    path.write_bytes(raw)
    return path, hashlib.sha256(raw).hexdigest()


def run_body(
    items: Path,
    count: int,
    endpoint_url: str,
    *,
    sha256: str | None = None,
    model: str = "demo-lm",
    protocol: str = "grpc",
    pool: str = "H100",
    stage_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    max_tokens: int = 4,
    temperature: float = 0.0,
) -> dict[str, Any]:
    return {
        "run_id": str(uuid.uuid4()),
        "stage_id": str(stage_id or uuid.uuid4()),
        "submission_id": str(uuid.uuid4()),
        "team_id": str(team_id or uuid.uuid4()),
        "endpoint": {"url": endpoint_url, "model_name": model, "protocol": protocol, "gpu_pool": pool},
        "suite": {"suite_id": "demo-en", "version": "1", "content_hash": SUITE_HASH},
        "items": {"uri": items.as_uri(), "item_count": count, "sha256": sha256},
        "decoding": {"max_tokens": max_tokens, "temperature": temperature},
        "limits": {"request_timeout_seconds": 10, "max_attempts": 3},
    }


def expected_text(i: int, max_tokens: int = 4) -> str:
    """What demo-lm answers to item ``i`` of :func:`write_items`: the first words after 'Question:'."""
    return " ".join(f"what follows {i} and {i + 1} here".split()[:max_tokens])


async def request_run(client: httpx.AsyncClient, auth: AuthSettings, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/runs", json=body, headers=bearer(auth, Role.SERVICE))
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


async def get_run(client: httpx.AsyncClient, auth: AuthSettings, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/runs/{run_id}", headers=bearer(auth, Role.OPERATOR))
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def wait_for_run(
    client: httpx.AsyncClient,
    auth: AuthSettings,
    run_id: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 60.0,
    interval: float = 0.05,
    missing_ok: bool = False,
) -> dict[str, Any]:
    """Poll the run until ``until`` holds; ``missing_ok``: the run may not exist yet (Kafka intake)."""
    seen: list[dict[str, Any]] = []

    async def reached() -> dict[str, Any] | None:
        response = await client.get(f"/v1/runs/{run_id}", headers=bearer(auth, Role.OPERATOR))
        if missing_ok and response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        seen.append(run)
        return run if until(run) else None

    try:
        return await eventually(
            reached, timeout=timeout, interval=interval, what=f"run {run_id}'s expected state"
        )
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {seen[-1] if seen else 'no run'}") from None


def finished(run: dict[str, Any]) -> bool:
    return run["status"] in ("completed", "failed")


async def all_responses(client: httpx.AsyncClient, auth: AuthSettings, run_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        response = await client.get(
            f"/v1/runs/{run_id}/responses", params=params, headers=bearer(auth, Role.SERVICE)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def run_events(
    bootstrap: str,
    run_id: str,
    until: Callable[[list[Envelope]], bool],
    timeout: float = 30.0,
    settle: float = 0.5,
) -> list[Envelope]:
    """The gateway's events about ``run_id``, read from the start of its topic until ``until`` holds
    (then ``settle`` seconds more, so that a duplicate would show up)."""
    # No consumer group (joining one takes seconds on Tansu): read every partition from the start.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    partitions = [
        TopicPartition(str(Topic.GATEWAY), p) for p in consumer.partitions_for_topic(str(Topic.GATEWAY)) or ()
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    found: list[Envelope] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settled_at: float | None = None
        while loop.time() < deadline and (settled_at is None or loop.time() < settled_at):
            for records in (await consumer.getmany(timeout_ms=100)).values():
                found += [Envelope.from_bytes(r.value or b"") for r in records if r.key == run_id.encode()]
            if settled_at is None and until(found):
                settled_at = loop.time() + settle
    finally:
        await consumer.stop()
    return found


def of_type(events: list[Envelope], name: str) -> list[Envelope]:
    return [e for e in events if e.type == f"fmc.inference-gateway.{name}.v1"]


async def stored_records(database_url: str, run_id: str) -> list[tuple[str, str, str]]:
    """(item_id, replica, status) of every stored record of the run, read from the database itself."""
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(ItemRecord.item_id, ItemRecord.replica, ItemRecord.status).where(
                    ItemRecord.run_id == uuid.UUID(run_id)
                )
            )
            return [(row.item_id, row.replica, row.status) for row in rows]
    finally:
        await engine.dispose()


async def triton_successes(grpc_url: str, model: str = "demo-lm") -> int:
    """How many inferences the Triton server answered for ``model`` since it started."""
    client = grpc_aio.InferenceServerClient(grpc_url)
    try:
        stats = await client.get_inference_statistics(model, as_json=True)
    finally:
        await client.close()
    return sum(int(m["inference_stats"]["success"].get("count", 0)) for m in stats["model_stats"])


@asynccontextmanager
async def migrated_gateway_sessions(
    database_factory: DatabaseFactory,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh gateway database, migrated to head; its engine is disposed of on leaving.

    Give it runs with :func:`a_run_with_leased_chunks`."""
    url = await database_factory.create("gateway")
    await migrations.upgrade(MIGRATIONS, url)
    engine = db.create_engine(url)
    try:
        yield db.session_factory(engine)
    finally:
        await engine.dispose()


async def a_run_with_leased_chunks(sessions: Any, chunks: int, replica: str) -> uuid.UUID:
    """A running run (on a dummy endpoint) of ``chunks`` one-item chunks, all leased by ``replica``."""
    now = datetime.now(UTC)
    endpoint_id, run_id = uuid.uuid4(), uuid.uuid4()
    async with transaction(sessions) as session:
        session.add(
            Endpoint(
                id=endpoint_id,
                url=f"127.0.0.1:{uuid.uuid4().int % 60000 + 1}",
                protocol=InferenceProtocol.GRPC,
                model_name="demo-lm",
                model_version="",
                gpu_pool=GpuPool.H100,
                registered_at=now,
            )
        )
        await session.flush()
        session.add(
            Run(
                id=run_id,
                stage_id=uuid.uuid4(),
                submission_id=uuid.uuid4(),
                team_id=uuid.uuid4(),
                endpoint_id=endpoint_id,
                gpu_pool=GpuPool.H100,
                hardware_class="h100",
                suite_id="s",
                suite_version="1",
                suite_hash="0" * 64,
                items_uri="file:///items.jsonl",
                decoding={},
                limits={},
                request_fingerprint="0" * 64,
                status=RunStatus.RUNNING,
                total=chunks,
                answered=0,
                errored=0,
                requested_at=now,
                accepted_at=now,
                prepared_at=now,
                last_progress_at=now,
            )
        )
        await session.flush()
        session.add_all(
            RunChunk(
                run_id=run_id,
                chunk_no=n,
                first_seq=n,
                last_seq=n,
                status=ChunkStatus.PENDING,
                lease_owner=replica,
                lease_until=now + timedelta(seconds=30),
                claims=1,
            )
            for n in range(chunks)
        )
    return run_id
