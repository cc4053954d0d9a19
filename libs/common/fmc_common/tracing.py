"""OpenTelemetry traces across the platform's hops: REST, gRPC and Kafka events.

* REST: ``TracingMiddleware`` continues the caller's W3C ``traceparent`` (or starts a trace) with a
  server span per request; the service's own outbound calls (``inject_headers``: service endpoints,
  items fetches) carry the current context on.
* gRPC: ``server_interceptor`` continues a trace from the call's metadata; ``grpc_metadata`` gives the
  metadata to send.
* Kafka: the outbox writes the current ``traceparent`` into the event envelope as a CloudEvents
  extension attribute (``Envelope.traceparent``: the Distributed Tracing extension); a consumer
  handles each event inside a consumer span whose parent is that context (``consumer_span``).

Spans are exported by OTLP over HTTP to the collector named in ``FMC_TRACING_OTLP_ENDPOINT``; unset
(the default), no tracer is installed, nothing is exported, and the trace context still flows through
the hops unchanged. The exporter reaches that endpoint only (no proxy from the environment).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


class TracingSettings(BaseSettings):
    """Where spans go. Shared by every service and relay (``FMC_TRACING_``); the service name is theirs."""

    model_config = SettingsConfigDict(env_prefix="FMC_TRACING_", extra="ignore")

    otlp_endpoint: str | None = Field(
        default=None,
        description="The collector's OTLP/HTTP traces URL (e.g. http://otel-collector:4318/v1/traces); "
        "unset: tracing off",
    )
    otlp_timeout_seconds: float = Field(default=10.0, gt=0)
    otlp_headers: dict[str, str] = Field(
        default={}, description="Headers sent with each export (e.g. a collector's token), as JSON"
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded (continued traces follow the caller)",
    )
    environment: str | None = Field(default=None, description="deployment.environment on every span")


def configure_tracing(service_name: str, settings: TracingSettings | None = None) -> TracerProvider | None:
    """Install an exporting tracer provider for this process when an OTLP endpoint is set (else None)."""
    global _provider
    settings = settings or TracingSettings()
    if not settings.otlp_endpoint:
        return None
    if _provider is not None:
        return _provider
    import requests
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    attributes: dict[str, str] = {"service.name": service_name}
    if settings.environment:
        attributes["deployment.environment"] = settings.environment
    session = requests.Session()
    session.trust_env = False  # no proxy, no .netrc: spans go to the named collector only
    exporter = OTLPSpanExporter(
        endpoint=settings.otlp_endpoint,
        timeout=settings.otlp_timeout_seconds,
        headers=dict(settings.otlp_headers),
        session=session,
    )
    provider = SdkTracerProvider(
        resource=Resource.create(attributes), sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio))
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    use_provider(provider)
    log.info("tracing to %s", settings.otlp_endpoint)
    return provider


def use_provider(provider: TracerProvider | None) -> None:
    """The provider spans are made with (None: OpenTelemetry's global one, a no-op unless set)."""
    global _provider
    _provider = provider


def shutdown_tracing() -> None:
    """Export what is buffered (at process exit)."""
    shutdown = getattr(_provider, "shutdown", None)
    if shutdown is not None:
        shutdown()


def tracer() -> Tracer:
    return trace.get_tracer("fmc", tracer_provider=_provider)


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    """The context a carrier (headers, metadata, envelope attributes) names; the current one if none."""
    return _PROPAGATOR.extract(carrier)


def inject_headers(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add the current ``traceparent`` (and ``tracestate``) to outgoing headers; returns them."""
    _PROPAGATOR.inject(headers)
    return headers


def current_traceparent() -> str | None:
    """The current context as a ``traceparent`` value (None outside any trace)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex-digit trace id of a ``traceparent`` value."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 else None


@contextmanager
def consumer_span(
    name: str, envelope_extensions: Mapping[str, Any], attributes: Mapping[str, Any]
) -> Iterator[Span]:
    """Handle one event inside a consumer span continuing the trace its envelope carries."""
    carrier = {k: v for k in (TRACEPARENT, TRACESTATE) if isinstance(v := envelope_extensions.get(k), str)}
    parent = extract(carrier)
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=dict(attributes)
    ) as span:
        yield span


class TracingMiddleware:
    """A server span per HTTP request, continuing the caller's ``traceparent``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name in (b"traceparent", b"tracestate")
        }
        method = scope.get("method", "")
        status = 500

        async def send_with_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with tracer().start_as_current_span(
            f"{method} {scope.get('path', '')}",
            context=extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
        ) as span:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.Status(trace.StatusCode.ERROR))


def grpc_metadata() -> list[tuple[str, str]]:
    """Metadata carrying the current trace to a gRPC server."""
    return list(inject_headers({}).items())


def server_interceptor() -> Any:
    """A ``grpc.aio.ServerInterceptor`` continuing the caller's trace in a server span per call."""
    import grpc

    class _Interceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            handler = await continuation(details)
            if handler is None or handler.unary_unary is None:
                return handler
            carrier = {k: v for k, v in (details.invocation_metadata or ()) if k in (TRACEPARENT, TRACESTATE)}
            method = str(details.method)
            inner = handler.unary_unary

            async def traced(request: Any, context: Any) -> Any:
                with tracer().start_as_current_span(
                    method, context=extract(carrier), kind=SpanKind.SERVER, attributes={"rpc.system": "grpc"}
                ):
                    return await inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                traced,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )

    return _Interceptor()
