"""The four services' public APIs, called with the signed-in person's token (or, for the public pages'
schedule, the web tier's own service token): the web tier holds no evaluation data of its own.

A refusal comes back as ``ServiceProblem`` carrying the service's problem+json (its ``code`` above all),
so the page can say it in the person's language and keep the code for support.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from fmc_common.correlation import HEADER, current_correlation_id
from fmc_common.service_tokens import ServiceTokens


class ServiceProblem(Exception):
    def __init__(self, status: int, code: str, detail: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body or {}

    @classmethod
    def of(cls, response: httpx.Response) -> ServiceProblem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("code") or f"http-{response.status_code}")
        detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
        return cls(response.status_code, code, detail, body)


def unavailable(service: str) -> ServiceProblem:
    return ServiceProblem(503, "service-unavailable", f"the {service} service is unreachable")


class Services:
    """One pooled HTTP client for every call; ``base`` maps a service name to its URL."""

    def __init__(
        self,
        base: dict[str, str],
        tokens: ServiceTokens,
        timeout: float,
        stream_timeout: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = base
        self._tokens = tokens
        self._stream_timeout = stream_timeout
        self._client = httpx.AsyncClient(
            timeout=timeout,
            trust_env=False,  # never through an ambient proxy: the calls stay inside the cluster
            follow_redirects=False,
            # Idle connections are dropped before the services' servers drop them (uvicorn: 5 s): a
            # connection closed by the server just as it is reused would fail the person's request.
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=4.0,
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", HEADER: current_correlation_id() or ""}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return {k: v for k, v in headers.items() if v}

    def own_token(self, service: str) -> str | None:
        """The web tier's service token for ``service``: only for what any visitor may see."""
        return self._tokens.token_for(service)

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        token: str | None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        _, body = await self.call_with_status(
            method, service, path, token=token, json=json, params=params, headers=headers
        )
        return body

    async def call_with_status(
        self,
        method: str,
        service: str,
        path: str,
        *,
        token: str | None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """As ``call``, with the status too: where the service tells by it what happened (a write
        that added nothing answers 200 rather than 201)."""
        try:
            response = await self._client.request(
                method,
                self._base[service] + path,
                headers=self._headers(token) | (headers or {}),
                json=json,
                params=params,
            )
        except httpx.HTTPError as exc:
            raise unavailable(service) from exc
        if response.status_code >= 400:
            raise ServiceProblem.of(response)
        return response.status_code, response.json() if response.content else None

    @asynccontextmanager
    async def stream(
        self, service: str, path: str, *, token: str | None, json: Any
    ) -> AsyncIterator[httpx.Response]:
        """A streamed POST; a refusal (before the stream) is raised as ``ServiceProblem``."""
        request = self._client.build_request(
            "POST",
            self._base[service] + path,
            headers=self._headers(token) | {"Accept": "application/x-ndjson"},
            json=json,
            timeout=self._stream_timeout,
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise unavailable(service) from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise ServiceProblem.of(response)
            yield response
        finally:
            await response.aclose()

    # The team portal: an objection's attachment, passed through as the grievance service sends it.
    async def download(self, service: str, path: str, *, token: str | None) -> httpx.Response:
        """A GET whose body is not JSON (a file); a refusal is raised as ``ServiceProblem``."""
        try:
            response = await self._client.get(
                self._base[service] + path, headers=self._headers(token) | {"Accept": "*/*"}
            )
        except httpx.HTTPError as exc:
            raise unavailable(service) from exc
        if response.status_code >= 400:
            raise ServiceProblem.of(response)
        return response
