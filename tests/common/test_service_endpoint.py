"""Every client of another service is set up once (fmc_common.service_tokens.ServiceEndpoint)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from fmc_common.service_tokens import ServiceEndpoint


async def test_each_request_carries_a_fresh_token_and_no_redirect_is_followed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An ambient proxy must not be used for a call inside the cluster.
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    seen: list[tuple[str, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("authorization")))
        if request.url.path == "/moved":
            return httpx.Response(307, headers={"location": "https://elsewhere.invalid/steal"})
        return httpx.Response(200, json={"ok": True})

    tokens = (f"token-{n}" for n in itertools.count(1))
    endpoint = ServiceEndpoint(
        "http://registry:8000/", lambda: next(tokens), 5.0, httpx.MockTransport(answer)
    )
    async with endpoint.client() as client:
        assert (await client.get("/v1/a")).status_code == 200
        moved = await client.get("/moved")
        assert (await client.get("/v1/b")).status_code == 200
    assert moved.status_code == 307  # answered as is: the token never follows it elsewhere
    assert seen == [("/v1/a", "Bearer token-1"), ("/moved", "Bearer token-2"), ("/v1/b", "Bearer token-3")]
    assert client.trust_env is False
