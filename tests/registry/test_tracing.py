"""One trace across the hops: a REST call to the registry carrying a ``traceparent``, the event it emits
(the envelope's ``traceparent`` extension) through the real broker, and the consumer that applies it;
and a gRPC call continuing its caller's trace. Spans are recorded in memory (the OTLP export itself is
tested in tests/common/test_tracing.py)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SystemClock
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import ConsumerRunner
from fmc_common.messaging.kafka import make_consumer, make_producer
from fmc_common.settings import KafkaSettings
from fmc_common.tracing import use_provider
from fmc_protos.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.factories import programme
from registry.harness import Registry
from support.kafka import unique_topic
from support.messaging import TABLES, Store

pytestmark = pytest.mark.broker


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_provider(provider)
    try:
        yield exporter
    finally:
        use_provider(None)
        provider.shutdown()


def traceparent() -> tuple[str, int]:
    trace_id = secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01", int(trace_id, 16)


def of_trace(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [
        s for s in exporter.get_finished_spans() if s.context is not None and s.context.trace_id == trace_id
    ]


class TestTraces:
    async def test_a_trace_id_survives_rest_then_kafka_then_the_consumer(
        self, registry: Registry, spans: InMemorySpanExporter, kafka_settings: KafkaSettings, tmp_path: Path
    ) -> None:
        world = await programme(registry)
        header, trace_id = traceparent()
        body = {
            "name": f"Traced {uuid.uuid4().hex[:6]}",
            "lead_organisation": "Lead",
            "programme_id": str(world.programme_id),
        }
        response = await registry.client.post(
            "/v1/teams", json=body, headers=registry.operator() | {"traceparent": header}
        )
        assert response.status_code == 201, response.text
        team_id = response.json()["id"]

        seen: dict[str, tuple[int, Any]] = {}

        async def handle(session: AsyncSession, envelope: Envelope, event: TeamRegistered) -> None:
            seen[str(event.team_id)] = (
                trace.get_current_span().get_span_context().trace_id,
                (envelope.model_extra or {}).get("traceparent"),
            )

        store = await Store.create(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}")
        producer = make_producer(kafka_settings, client_id="tracing-test")
        await producer.start()
        group = unique_topic("tracing")
        runner = ConsumerRunner(
            name=group,
            consumer=make_consumer(kafka_settings, group, [str(Topic.REGISTRY)], client_id=group),
            producer=producer,
            dead_letter_topic=unique_topic("dlq"),
            handlers={TeamRegistered: handle},
            sessions=store.sessions,
            tables=TABLES,
            clock=SystemClock(),
        )
        await runner._consumer.start()
        task = asyncio.create_task(runner.run())
        try:
            for _ in range(600):
                if team_id in seen or task.done():
                    break
                await asyncio.sleep(0.05)
        finally:
            runner.stop()
            await asyncio.wait_for(task, timeout=15)
            await producer.stop()
            await store.close()

        consumed_trace, carried = seen[team_id]
        assert consumed_trace == trace_id
        assert carried is not None
        assert carried.split("-")[1] == f"{trace_id:032x}"
        traced = of_trace(spans, trace_id)
        [server] = [s for s in traced if s.kind == SpanKind.SERVER]
        # Other consumers in this process may handle the same event (each continues the trace): this
        # test's consumer is found by its group.
        [consumer] = [
            s
            for s in traced
            if s.kind == SpanKind.CONSUMER
            and s.attributes is not None
            and s.attributes.get("messaging.consumer.group.name") == group
        ]
        assert server.name == "POST /v1/teams"
        assert server.attributes is not None
        assert server.attributes["http.response.status_code"] == 201
        assert consumer.name == "process fmc.registry.team-registered.v1"
        # The event was written inside the request's span: the consumer's span is its child.
        assert consumer.parent is not None
        assert server.context is not None
        assert consumer.parent.span_id == server.context.span_id

    async def test_a_grpc_call_continues_its_callers_trace(
        self, registry: Registry, spans: InMemorySpanExporter
    ) -> None:
        world = await programme(registry)
        body = {
            "name": f"Traced {uuid.uuid4().hex[:6]}",
            "lead_organisation": "Lead",
            "programme_id": str(world.programme_id),
        }
        created = await registry.client.post("/v1/teams", json=body, headers=registry.operator())
        team_id = created.json()["id"]
        header, trace_id = traceparent()
        metadata = (("authorization", registry.operator()["Authorization"]), ("traceparent", header))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{registry.grpc_port}") as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            team = await stub.GetTeam(registry_pb2.GetTeamRequest(team_id=team_id), metadata=metadata)
        assert team.team_id == team_id
        [span] = of_trace(spans, trace_id)
        assert (span.name, span.kind) == ("/fmc.registry.v1.RegistryService/GetTeam", SpanKind.SERVER)
