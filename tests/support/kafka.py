"""Reading and writing topics directly, for assertions about what went over the wire."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from fmc_common.events.envelope import encode_envelope, new_event_id
from fmc_common.settings import KafkaSettings

# Tansu holds a consumer's group join for half its session timeout (5 s at the 10 s default), waiting
# for other members; every consumer a test starts paid it. Heartbeats still run every 0.6 s.
FAST_JOIN_SESSION_MS = 2_000


def broker_settings(bootstrap: str, **overrides: Any) -> KafkaSettings:
    """KafkaSettings for a test broker: three partitions, consumers that join their group in about 1 s."""
    values: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "topic_partitions": 3,
        "consumer_session_timeout_ms": FAST_JOIN_SESSION_MS,
    }
    return KafkaSettings(**(values | overrides))


def unique_topic(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:10]}"


async def read_topic(
    bootstrap: str, topic: str, *, expected: int, timeout: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read from the beginning until ``expected`` records arrived (or the timeout; then return what came)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,  # no group to join (that takes seconds): read every partition from the start
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(records) < expected and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        # Give a moment for unexpected extra records to show up.
        batches = await consumer.getmany(timeout_ms=300)
        for batch in batches.values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def produce_raw(
    bootstrap: str, topic: str, values: list[bytes], key: bytes = b"k", max_request_size: int = 1_048_576
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", max_request_size=max_request_size
    )
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def first_record(
    bootstrap: str,
    topic: str,
    matches: Callable[[ConsumerRecord[bytes, bytes]], bool],
    timeout: float = 30.0,
) -> ConsumerRecord[bytes, bytes]:
    """The first record of ``topic`` (read from the beginning) that ``matches``; fails after ``timeout``."""
    # No consumer group: joining one costs seconds, and a watcher needs every partition anyway.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                for record in batch:
                    if matches(record):
                        return record
    finally:
        await consumer.stop()
    raise AssertionError(f"no matching record arrived on {topic} in {timeout} s")


def envelope_bytes(event: Any) -> bytes:
    """``event`` as a producer would send it (a fresh id, now), for tests that publish by hand."""
    return encode_envelope(
        event,
        event_id=new_event_id(),
        source="/fmc/test",
        time=datetime.now(UTC),
        correlation_id=None,
        causation_id=None,
    )
