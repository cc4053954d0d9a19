"""Kafka clients configured for the Tansu broker (dev, tests) or Apache Kafka (production)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from fmc_common.settings import KafkaSecurityProtocol, KafkaSettings

log = logging.getLogger(__name__)


def client_options(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Connection, security and timeout options common to producers, consumers and admin clients."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": client_id,
        "security_protocol": settings.security_protocol.value,
        "request_timeout_ms": settings.request_timeout_ms,
    }
    if settings.security_protocol in (KafkaSecurityProtocol.SSL, KafkaSecurityProtocol.SASL_SSL):
        options["ssl_context"] = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
        )
    if settings.security_protocol in (KafkaSecurityProtocol.SASL_PLAINTEXT, KafkaSecurityProtocol.SASL_SSL):
        options["sasl_mechanism"] = settings.sasl_mechanism or "SCRAM-SHA-512"
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    return options


def make_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """acks=all always; idempotence only where the broker supports it (not Tansu)."""
    return AIOKafkaProducer(
        **client_options(settings, client_id),
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        linger_ms=5,
        max_batch_size=min(256 * 1024, settings.max_message_bytes),
        max_request_size=settings.max_message_bytes,
    )


def make_consumer(
    settings: KafkaSettings,
    group_id: str,
    topics: list[str],
    client_id: str,
    max_poll_interval_seconds: float = 300.0,
) -> AIOKafkaConsumer:
    """Offsets are committed by the runner after the effect is committed: never auto-commit.

    ``max_poll_interval_seconds`` must exceed the runner's retry budget: a consumer waiting out an
    outage on one event polls nothing meanwhile, and must not be expelled from its group for it.
    """
    return AIOKafkaConsumer(
        *topics,
        **client_options(settings, client_id),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=200,
        max_partition_fetch_bytes=settings.max_message_bytes + 64 * 1024,
        max_poll_interval_ms=int(max_poll_interval_seconds * 1000),
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_session_timeout_ms * 3 // 10,
    )


async def ensure_topics(settings: KafkaSettings, topics: list[str], client_id: str = "fmc-admin") -> None:
    """Create missing topics (Strimzi creates them in production; this serves dev and tests)."""
    admin = AIOKafkaAdminClient(**client_options(settings, client_id))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        try:
            await admin.create_topics(
                [
                    NewTopic(name=t, num_partitions=settings.topic_partitions, replication_factor=1)
                    for t in missing
                ]
            )
        except TopicAlreadyExistsError:
            log.info("topics created concurrently", extra={"topics": ",".join(missing)})
    finally:
        await admin.close()


async def broker_reachable(producer: AIOKafkaProducer, timeout_ms: int = 2000) -> bool:
    """True when the broker answers a metadata request."""
    try:
        client = producer.client
        node_id = client.get_random_node()
        if node_id is None:
            return bool(await client.force_metadata_update())
        return bool(await client.ready(node_id))
    except Exception:
        return False


async def start_with_retry(start: Callable[[], object], what: str, attempts: int = 30) -> None:
    """The broker may come up after us (compose, k8s): retry connecting for a while."""
    for attempt in range(1, attempts + 1):
        try:
            result = start()
            if asyncio.iscoroutine(result):
                await result
            return
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("broker not reachable yet", extra={"client": what, "error": repr(exc)})
            await asyncio.sleep(min(0.5 * attempt, 5.0))
