"""The web tier's composition root: settings in, the app out (pages, sign-in, static files, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from fmc_common.auth import TokenVerifier
from fmc_common.clock import Clock, default_clock
from fmc_common.metrics import ServiceMetrics
from fmc_common.service_tokens import ServiceTokens
from fmc_common.web.middleware import CorrelationMiddleware
from fmc_web import arena, console, home, results, signin
from fmc_web.clients import ServiceProblem, Services
from fmc_web.deps import STATIC, TEMPLATES, Page, SignInRequired, WebRuntime
from fmc_web.middleware import SecurityHeadersMiddleware, SessionMiddleware
from fmc_web.oidc import OidcClient
from fmc_web.session import SessionCodec
from fmc_web.settings import WebSettings


# Every page router; a test checks that each POST among them checks the CSRF token.
ROUTERS = (home.router, signin.router, arena.router, results.router, console.router)


def create_app(
    settings: WebSettings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``transport``: for tests that serve the services in-process (httpx.ASGITransport routing)."""
    services = Services(
        {"registry": settings.registry_url, "scoring": settings.scoring_url, "grievance": settings.grievance_url},
        ServiceTokens(settings.auth, settings.service_name),
        timeout=settings.request_timeout_seconds,
        stream_timeout=settings.stream_timeout_seconds,
        max_connections=settings.max_connections,
        transport=transport,
    )
    oidc_http = httpx.AsyncClient(timeout=settings.request_timeout_seconds, trust_env=False, transport=transport)
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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await services.aclose()
            await oidc_http.aclose()

    app = FastAPI(
        title="FMC web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.web = WebRuntime(settings, services, oidc, templates, clock or default_clock())
    _install_errors(app)
    codec = SessionCodec(settings.session_key.get_secret_value(), int(settings.session_hours * 3600))
    app.add_middleware(SessionMiddleware, codec=codec, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware, secure=settings.secure_cookies)
    app.add_middleware(CorrelationMiddleware, metrics=ServiceMetrics(settings.service_name))
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith("/stream")


def _install_errors(app: FastAPI) -> None:
    def page(request: Request) -> Page:
        runtime = request.app.state.web
        assert isinstance(runtime, WebRuntime)
        return Page(request, runtime)

    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceProblem)
        here = page(request)
        message = here.t.problem(exc.code, exc.detail, exc.body)
        if _wants_json(request):
            body = {"status": exc.status, "code": exc.code, "message": message}
            return JSONResponse(body, status_code=exc.status, media_type="application/problem+json")
        if exc.status == 401:
            here.holder.replace(type(here.session)())  # an expired or revoked token: signed out
        return here.render("error.html", status=exc.status, message=message, code=exc.code)

    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        if _wants_json(request):
            return await problem(request, ServiceProblem(401, "unauthenticated", "sign in first"))
        return RedirectResponse(signin.signin_url(exc.next_path), status_code=303)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()
        )
        return await problem(request, ServiceProblem(422, "validation-failed", fields))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/static/"):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        code = "not-found" if exc.status_code == 404 else f"http-{exc.status_code}"
        return await problem(request, ServiceProblem(exc.status_code, code, str(exc.detail)))

    app.add_exception_handler(ServiceProblem, problem)
    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
