"""Tracing (``fmc_common.tracing``): spans exported by OTLP/HTTP to the collector named in the settings,
to that address only; off when no collector is named; the envelope's ``traceparent`` extension."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from fmc_common import tracing
from fmc_common.events.envelope import Envelope, encode_envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.tracing import TracingSettings, configure_tracing, current_traceparent, trace_id_of, tracer
from fmc_devrunner.ports import free_port


class Collector:
    """An OTLP/HTTP receiver on loopback: keeps every ExportTraceServiceRequest posted to /v1/traces."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    received.append(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    try:
        yield found
    finally:
        found.close()


class TestExport:
    def test_spans_reach_the_named_collector_with_the_service_name_and_no_proxy(
        self, collector: Collector, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dead = f"http://127.0.0.1:{free_port()}"
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, dead)  # were it used, nothing would arrive
        monkeypatch.setenv("NO_PROXY", "")
        settings = TracingSettings(otlp_endpoint=collector.url, environment="test")
        provider = configure_tracing("scoring", settings)
        assert provider is not None
        try:
            with tracer().start_as_current_span("grading") as span:
                traceparent = current_traceparent()
                trace_id = span.get_span_context().trace_id
            assert trace_id_of(traceparent) == f"{trace_id:032x}"
            provider.force_flush()  # type: ignore[attr-defined]
        finally:
            tracing.shutdown_tracing()
            tracing.use_provider(None)
        [request] = collector.requests
        [resource_spans] = request.resource_spans
        attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
        assert (attributes["service.name"], attributes["deployment.environment"]) == ("scoring", "test")
        [exported] = [s for scope in resource_spans.scope_spans for s in scope.spans]
        assert (exported.name, exported.trace_id.hex()) == ("grading", f"{trace_id:032x}")

    def test_without_a_collector_nothing_is_installed_and_no_trace_is_made_up(self) -> None:
        assert configure_tracing("scoring", TracingSettings()) is None
        with tracer().start_as_current_span("grading"):
            assert current_traceparent() is None


class TestEnvelope:
    def test_the_traceparent_extension_travels_in_the_envelope(self) -> None:
        event = TeamRegistered(
            team_id=uuid.uuid4(), name="t", lead_organisation="o", registered_at=datetime.now(UTC)
        )
        header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        raw = encode_envelope(
            event,
            event_id="e1",
            source="/fmc/test",
            time=datetime(2026, 12, 6, tzinfo=UTC),
            correlation_id="c1",
            causation_id=None,
            traceparent=header,
        )
        envelope = Envelope.from_bytes(raw)
        assert (envelope.model_extra or {})["traceparent"] == header
        assert (Envelope.from_bytes(envelope.to_bytes()).model_extra or {})["traceparent"] == header
