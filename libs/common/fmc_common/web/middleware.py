"""ASGI middleware: correlation id in and out, request metrics."""

from __future__ import annotations

import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fmc_common.correlation import HEADER, correlation_scope
from fmc_common.metrics import ServiceMetrics

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER_BYTES = HEADER.lower().encode()


class CorrelationMiddleware:
    """Reads X-Correlation-ID (or makes one), scopes the request under it, echoes it back."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == _HEADER_BYTES:
                candidate = value.decode("latin-1")
                incoming = candidate if _VALID_ID.match(candidate) else None
        status = 500
        started = time.perf_counter()

        with correlation_scope(incoming) as cid:

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (_HEADER_BYTES, cid.encode())]
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                method = scope.get("method", "")
                self.metrics.http_requests.labels(route=template, method=method, status=str(status)).inc()
                self.metrics.http_latency.labels(route=template, method=method).observe(
                    time.perf_counter() - started
                )
