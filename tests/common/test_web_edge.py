"""The web edge: a 500 keeps the connection, problems keep an integer status, OpenAPI tells the truth."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from fmc_common.contracts.openapi import SERVICES, build_app
from fmc_common.errors import Conflict
from fmc_common.web.limits import RequestLimitsMiddleware, UnexpectedErrorMiddleware
from fmc_common.web.problems import PROBLEM_JSON, install_problem_handlers
from fmc_devrunner.ports import free_port


class StaleStatus(Conflict):
    code = "stale-status"


def test_a_detail_named_like_a_problem_member_does_not_replace_it() -> None:
    body = StaleStatus("version 2 is approved", status="approved", code="x").problem()
    assert body["status"] == 409
    assert body["code"] == "stale-status"
    assert body["status_value"] == "approved"
    assert body["code_value"] == "x"


@pytest.fixture
async def server() -> AsyncIterator[int]:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=1024)

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        return {"ok": "yes"}

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    for _ in range(100):
        if instance.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        instance.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=5)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, str]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n".encode())
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1])
        for line in head.split("\r\n")
        if line.lower().startswith("content-length:")
    )
    body = (await asyncio.wait_for(reader.readexactly(length), timeout=5)).decode()
    content_type = next(line for line in head.split("\r\n") if line.lower().startswith("content-type:"))
    return status, content_type + body


class TestUnexpectedErrors:
    async def test_a_500_is_a_problem_and_the_connection_serves_the_next_request(self, server: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server)
        try:
            status, text = await _exchange(reader, writer, "/boom")
            assert status == 500
            assert PROBLEM_JSON in text
            assert '"internal-error"' in text
            assert "a bug" not in text  # no internals in the answer
            again, body = await _exchange(reader, writer, "/fine")
            assert again == 200
            assert '"ok":"yes"' in body
        finally:
            writer.close()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_refusal_is_documented_as_problem_json(service: Any) -> None:
    document = build_app(service).openapi()
    wrong = []
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        expected = {"400", "413", "422"} if "requestBody" in operation else set()
        expected |= {"414"}  # any path and query may be over the limit
        expected |= {"422"} if "422" in responses else set()
        for status in sorted(expected):
            content = responses.get(status, {}).get("content", {})
            if list(content) != [PROBLEM_JSON]:
                wrong.append(f"{method.upper()} {path} {status}: {list(content) or 'undocumented'}")
    assert not wrong, "\n".join(wrong)
    assert "HTTPValidationError" not in document.get("components", {}).get("schemas", {})
