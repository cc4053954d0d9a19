"""Prometheus metrics of one service, in its own registry (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "fmc_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "fmc_http_request_seconds", "HTTP request latency.", ["route", "method"], registry=self.registry
        )
        self.outbox_published = Counter(
            "fmc_outbox_published_total", "Events published by the outbox relay.", registry=self.registry
        )
        self.outbox_failures = Counter(
            "fmc_outbox_publish_failures_total", "Outbox rows whose publish failed.", registry=self.registry
        )
        self.outbox_pending = Gauge(
            "fmc_outbox_pending", "Outbox rows not yet published.", registry=self.registry
        )
        self.consumed = Counter(
            "fmc_events_consumed_total",
            "Events handled by a consumer, by outcome (applied, duplicate, ignored, dead-lettered).",
            ["consumer", "outcome"],
            registry=self.registry,
        )
        self.consumer_retries = Counter(
            "fmc_consumer_retries_total", "Transient failures retried.", ["consumer"], registry=self.registry
        )
        self.consumer_restarts = Counter(
            "fmc_consumer_restarts_total",
            "Consumer tasks that ended unexpectedly and were restarted.",
            ["consumer"],
            registry=self.registry,
        )
        self.info = Gauge("fmc_service_info", "Service identity.", ["service"], registry=self.registry)
        self.info.labels(service=service).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
