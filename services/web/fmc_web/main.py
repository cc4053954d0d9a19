"""The web tier's composition root: settings in, the app out (pages, sign-in, static files, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from fmc_common.auth import TokenVerifier
from fmc_common.clock import Clock, default_clock
from fmc_common.metrics import ServiceMetrics
from fmc_common.service_tokens import ServiceTokens
from fmc_common.web.middleware import CorrelationMiddleware
from fmc_web import arena, console, errors, home, panel, results, signin, team, views
from fmc_web.clients import Services
from fmc_web.deps import STATIC, TEMPLATES, WebRuntime
from fmc_web.middleware import SecurityHeadersMiddleware, SessionMiddleware
from fmc_web.oidc import OidcClient
from fmc_web.session import SessionCodec
from fmc_web.settings import WebSettings

# Every page router; a test checks that each POST among them checks the CSRF token.
ROUTERS = (
    home.router,
    signin.router,
    arena.router,
    results.router,
    console.router,
    team.router,
    panel.router,
)


def create_app(
    settings: WebSettings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``transport``: for tests that serve the services in-process (httpx.ASGITransport routing)."""
    services = Services(
        {
            "registry": settings.registry_url,
            "scoring": settings.scoring_url,
            "grievance": settings.grievance_url,
            "gateway": settings.gateway_url,
        },
        ServiceTokens(settings.auth, settings.service_name),
        timeout=settings.request_timeout_seconds,
        stream_timeout=settings.stream_timeout_seconds,
        max_connections=settings.max_connections,
        transport=transport,
    )
    oidc_http = httpx.AsyncClient(
        timeout=settings.request_timeout_seconds, trust_env=False, transport=transport
    )
    oidc = OidcClient(
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        f"{settings.public_url.rstrip('/')}/auth/callback",
        TokenVerifier(settings.auth, settings.service_name, transport=transport),
        oidc_http,
        transport,
    )
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.filters["seoul"] = views.seoul

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await services.aclose()
            await oidc_http.aclose()

    app = FastAPI(title="FMC web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebRuntime(settings, services, oidc, templates, clock or default_clock())
    errors.install(app)
    codec = SessionCodec(settings.session_key.get_secret_value(), int(settings.session_hours * 3600))
    app.add_middleware(SessionMiddleware, codec=codec, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware, secure=settings.secure_cookies)
    app.add_middleware(CorrelationMiddleware, metrics=ServiceMetrics(settings.service_name))
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
