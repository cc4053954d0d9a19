"""Streamed responses that always clean up: NDJSON lines, and a close hook that runs however the stream ends.

Starlette's ``StreamingResponse`` notices a client that went away only on some servers (ASGI spec
2.4 reports it at the next ``send``), and leaves a body generator that was never started, or
suspended at a ``yield``, to the garbage collector. A stream that holds work in flight (the arena's
two answers) must stop that work and undo what it reserved as soon as the client leaves:
``ClosingStreamingResponse`` listens for the disconnect itself and then awaits ``on_close``, shielded
from cancellation, in every case (finished, failed, client gone, server shutting down).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import suppress
from typing import Any

import anyio
from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

NDJSON = "application/x-ndjson"


async def ndjson_lines(events: AsyncIterator[BaseModel]) -> AsyncGenerator[bytes]:
    """One JSON object per line, in the order the events come."""
    async for event in events:
        yield event.model_dump_json().encode() + b"\n"


def ndjson_responses(description: str, *events: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of a 200 NDJSON stream whose lines are one of ``events`` (flat models)."""
    line = {"oneOf": [event.model_json_schema() for event in events]}
    return {200: {"description": description, "content": {NDJSON: {"schema": line}}}}


class ClosingStreamingResponse(StreamingResponse):
    """A streamed body whose ``on_close`` is awaited once the stream ends, however it ends."""

    media_type = NDJSON

    def __init__(
        self,
        content: AsyncGenerator[bytes],
        on_close: Callable[[], Awaitable[None]],
        media_type: str = NDJSON,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._content = content
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def stream() -> None:
                    with suppress(OSError):  # the client went away while we were sending
                        await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(stream)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._content.aclose()  # the body's own cleanup first, if it was started
                await self._on_close()
