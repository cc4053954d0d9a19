"""Limits before work: a request too large is refused before it is read, parsed or authenticated.

And an unexpected error becomes a 500 problem without taking the connection down with it.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fmc_common.web.problems import problem

log = logging.getLogger(__name__)


class RequestLimitsMiddleware:
    """413 for a body over ``max_body_bytes`` (by its Content-Length at once, or while it streams in),
    414 for a path over ``max_path_bytes``; both as problem+json."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_path_bytes: int = 2048) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_path_bytes = max_path_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        if len(path) + len(scope.get("query_string", b"")) > self.max_path_bytes:
            refusal = problem(
                414,
                "uri-too-long",
                "URI too long",
                f"the path and query may hold at most {self.max_path_bytes} bytes",
                scope["path"][:200],
            )
            await refusal(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(scope)(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _too_large(self, scope: Scope) -> ASGIApp:
        return problem(
            413,
            "payload-too-large",
            "Payload too large",
            f"a request body may hold at most {self.max_body_bytes} bytes",
            scope["path"][:200],
            max_bytes=self.max_body_bytes,
        )

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Raised inside the body read: FastAPI passes HTTPExceptions through to the
                    # problem handler, which answers 413 (the rest of the body is never kept).
                    raise HTTPException(413, f"a request body may hold at most {self.max_body_bytes} bytes")
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
    return None


class UnexpectedErrorMiddleware:
    """Answers an unhandled exception with a 500 problem and keeps the connection open.

    Starlette's outermost error middleware re-raises after answering, which makes the server drop
    the connection; a client's keep-alive connection should survive one failed request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path", "")[:200]})
            if started:
                return  # the response is under way; nothing better can be sent now
            answer = problem(
                500, "internal-error", "Internal error", "an unexpected error occurred", scope["path"][:200]
            )
            await answer(scope, receive, send)
