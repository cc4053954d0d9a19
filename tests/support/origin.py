"""A real HTTP server on loopback that answers what a test gives it and counts every request it receives.

For the tests that prove a request did *not* leave: whatever reaches the port is recorded (method,
target, headers), even a request the server has no answer for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hit:
    method: str
    target: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Origin:
    port: int
    answers: dict[str, Answer] = field(default_factory=dict)
    """By request target (path and query); anything else is a 404."""
    hits: list[Hit] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
        fields = (line.partition(":") for line in lines[1:] if line)
        headers = {name.strip().lower(): value.strip() for name, _, value in fields}
        self.hits.append(Hit(method, target, headers))
        answer = self.answers.get(target, Answer(404, b"not here"))
        extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
        status = f"HTTP/1.1 {answer.status} X\r\nContent-Length: {len(answer.body)}\r\nConnection: close\r\n"
        writer.write(f"{status}{extra}\r\n".encode() + answer.body)
        try:
            await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def recording_origin() -> AsyncIterator[Origin]:
    """An origin on 127.0.0.1 and a free port, stopped at the end."""
    origin = Origin(port=0)
    server = await asyncio.start_server(lambda r, w: origin._serve(r, w), "127.0.0.1", 0)
    origin.port = server.sockets[0].getsockname()[1]
    try:
        yield origin
    finally:
        server.close()
        await server.wait_closed()
