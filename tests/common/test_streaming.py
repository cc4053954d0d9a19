"""ClosingStreamingResponse: its close hook runs however the stream ends, the body closed first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, MutableMapping
from typing import Any

from fmc_common.web.streaming import ClosingStreamingResponse

SCOPE: dict[str, Any] = {"type": "http", "asgi": {"spec_version": "2.4"}}


class Body:
    """A body of ``lines``, waiting forever after them; remembers whether it was closed."""

    def __init__(self, lines: list[bytes], then_wait: bool) -> None:
        self.lines, self.then_wait, self.closed = lines, then_wait, False
        self.waiting = asyncio.Event()

    async def __call__(self) -> AsyncGenerator[bytes]:
        try:
            for line in self.lines:
                yield line
            if self.then_wait:
                self.waiting.set()
                await asyncio.Event().wait()
        finally:
            self.closed = True


async def respond(body: Body, client_leaves: asyncio.Event) -> tuple[list[bytes], list[str]]:
    sent: list[bytes] = []
    closed: list[str] = []

    async def receive() -> dict[str, Any]:
        await client_leaves.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message["body"])

    async def on_close() -> None:
        closed.append("body closed" if body.closed else "body open")

    response = ClosingStreamingResponse(body(), on_close=on_close)
    await asyncio.wait_for(response(SCOPE, receive, send), timeout=5)
    return sent, closed


class TestClosingStreamingResponse:
    async def test_a_finished_stream_is_closed_once(self) -> None:
        sent, closed = await respond(Body([b"1\n", b"2\n"], then_wait=False), asyncio.Event())
        assert sent == [b"1\n", b"2\n", b""]
        assert closed == ["body closed"]

    async def test_a_client_leaving_mid_stream_closes_it_even_on_a_spec_2_4_server(self) -> None:
        # ASGI 2.4 servers report a disconnect only at the next send: this stream sends nothing more.
        leaves = asyncio.Event()
        body = Body([b"1\n"], then_wait=True)
        task = asyncio.create_task(respond(body, leaves))
        await body.waiting.wait()  # every line sent; the stream waits for more
        assert not task.done()
        leaves.set()
        sent, closed = await task
        assert sent == [b"1\n"]
        assert closed == ["body closed"]

    async def test_a_client_gone_before_the_body_started_still_runs_the_close_hook(self) -> None:
        leaves = asyncio.Event()
        leaves.set()
        sent, closed = await respond(Body([], then_wait=True), leaves)
        assert len(closed) == 1
        assert sent in ([], [b""])
