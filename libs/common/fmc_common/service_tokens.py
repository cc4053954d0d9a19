"""Short-lived service tokens a service signs for its outbound calls, one audience per target service.

The token says role ``service``, ``iss`` = the service issuer, ``aud`` = the target service's name, and
lives ``service_token_ttl_seconds`` (minutes). It is kept per audience and signed again once two
thirds of its life are gone, so callers just ask for the current one before each request. Tokens are
checked against real time, not a service's (dev) clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from fmc_common.auth import Role, token_claims
from fmc_common.jwks import SigningKey
from fmc_common.settings import AuthSettings
from fmc_common.tracing import inject_headers

TokenSource = Callable[[], str | None]


class ServiceTokens:
    def __init__(
        self, settings: AuthSettings, service_name: str, now: Callable[[], float] = time.time
    ) -> None:
        key, kid = settings.service_key, settings.service_key_id
        self._key = SigningKey.from_pem(kid, key.get_secret_value()) if key and kid else None
        self._issuer = settings.service_issuer
        self._subject = f"service:{service_name}"
        self._ttl = settings.service_token_ttl_seconds
        self._now = now
        self._cache: dict[str, tuple[str, float]] = {}

    def token_for(self, audience: str) -> str | None:
        """A valid token for calls to ``audience``; None when this service has no signing key."""
        if self._key is None:
            return None
        now = self._now()
        cached = self._cache.get(audience)
        if cached is not None and now < cached[1]:
            return cached[0]
        token = self._key.sign(
            token_claims(
                issuer=self._issuer,
                audience=audience,
                subject=self._subject,
                role=Role.SERVICE,
                now=datetime.fromtimestamp(now, UTC),
                ttl=timedelta(seconds=self._ttl),
            )
        )
        self._cache[audience] = (token, now + self._ttl * 2 / 3)
        return token

    def source(self, audience: str) -> TokenSource:
        """What an outbound client calls before each request."""
        return lambda: self.token_for(audience)


class ServiceAuth(httpx.Auth):
    """httpx auth that asks for the current token on every request: a client kept open for a long
    paging loop never sends a token that expired while it was open."""

    def __init__(self, token: TokenSource) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(authorization(self._token()))
        inject_headers(request.headers)  # the current trace continues in the called service
        yield request


@dataclass(frozen=True)
class ServiceEndpoint:
    """Another service's REST API, called with this service's token for it (service to service).

    Subclassed by each client of another service, which adds the calls it makes; every client is
    set up the same way here: a fresh token per request, the configured timeout, no ambient
    HTTP(S)_PROXY (the call stays inside the cluster) and no redirect followed (it could lead
    anywhere, token in hand).
    """

    base_url: str
    token: TokenSource
    timeout: float
    transport: httpx.AsyncBaseTransport | None = None

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url.rstrip("/"),
            auth=ServiceAuth(self.token),
            timeout=self.timeout,
            transport=self.transport,
            trust_env=False,
            follow_redirects=False,
        )


def authorization(token: str | None) -> dict[str, str]:
    """The Authorization header for ``token`` (none without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}
