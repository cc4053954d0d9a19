"""The gateway fetches a run's items from scoring with a short-lived service token for scoring only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI, Header, Response

from fmc_common.auth import TokenVerifier, bearer_token
from fmc_common.dev_auth import DevKeys
from fmc_common.errors import Unauthenticated
from fmc_common.service_tokens import ServiceTokens
from fmc_devrunner.ports import free_port
from fmc_gateway.runs.items import ItemsInvalid, ItemsPolicy, fetch_items
from fmc_gateway.runs.sources import ItemsSources

ITEMS = b'{"item_id": "q1", "prompt": "2+2?"}\n'


@pytest.fixture
def keys() -> DevKeys:
    return DevKeys.generate(["inference-gateway", "scoring"])


@pytest.fixture
async def scoring(keys: DevKeys) -> AsyncIterator[str]:
    """Scoring's items endpoint, checking the bearer the way scoring does (a real HTTP server)."""
    verifier = TokenVerifier(keys.settings("scoring"), "scoring")
    app = FastAPI()

    @app.get("/v1/runs/r/items")
    async def items(authorization: str | None = Header(default=None)) -> Response:
        try:
            await verifier.verify(bearer_token(authorization))
        except Unauthenticated:
            return Response(status_code=401)
        return Response(ITEMS, media_type="application/x-ndjson")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    task = asyncio.create_task(server.serve())
    for _ in range(250):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1/runs/r/items"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=5)


def policy(keys: DevKeys, audience: str, items_url: str) -> ItemsPolicy:
    tokens = ServiceTokens(keys.settings("inference-gateway"), "inference-gateway")
    base = items_url.rsplit("/r/items", 1)[0] + "/"
    sources = ItemsSources([base], None)
    return ItemsPolicy(token=tokens.source(audience), sources=sources, max_bytes=1024, timeout=5.0)


class TestItemsToken:
    async def test_items_are_fetched_with_a_token_for_scoring(self, keys: DevKeys, scoring: str) -> None:
        fetched = await fetch_items(scoring, 1, None, policy(keys, "scoring", scoring))
        assert [item.item_id for item in fetched] == ["q1"]

    async def test_a_token_for_another_audience_is_refused_by_scoring(
        self, keys: DevKeys, scoring: str
    ) -> None:
        with pytest.raises(ItemsInvalid, match="401"):
            await fetch_items(scoring, 1, None, policy(keys, "registry", scoring))
