"""Prometheus metrics of the gateway, per pool and endpoint, in the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fmc_gateway.runs.breaker import BreakerState

BREAKER_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "fmc_gateway_requests_total",
            "Inference requests sent to Triton, by pool, endpoint and outcome "
            "(ok, model-error, timeout, transient, endpoint-down).",
            ["pool", "endpoint", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "fmc_gateway_request_seconds",
            "Latency of answered inference requests.",
            ["pool", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "fmc_gateway_in_flight", "Requests in flight.", ["pool", "endpoint"], registry=registry
        )
        self.breaker = Gauge(
            "fmc_gateway_breaker_state",
            "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open.",
            ["endpoint"],
            registry=registry,
        )
        self.queued = Gauge(
            "fmc_gateway_queued_items", "Items waiting for a slot.", ["pool"], registry=registry
        )
        self.records = Counter(
            "fmc_gateway_records_total", "Item records stored, by status.", ["status"], registry=registry
        )
