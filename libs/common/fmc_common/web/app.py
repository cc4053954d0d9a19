"""Builds a service's FastAPI app around its runtime: lifespan, problems, middleware, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from fmc_common.runtime import ServiceRuntime
from fmc_common.tracing import TracingMiddleware
from fmc_common.web.health import router as health_router
from fmc_common.web.limits import RequestLimitsMiddleware, UnexpectedErrorMiddleware
from fmc_common.web.middleware import CorrelationMiddleware
from fmc_common.web.openapi import install_problem_openapi
from fmc_common.web.ops import router as ops_router
from fmc_common.web.problems import install_problem_handlers

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def build_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    version: str = "0.1.0",
) -> FastAPI:
    max_body_bytes = getattr(runtime.settings, "max_request_body_bytes", DEFAULT_MAX_BODY_BYTES)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_problem_openapi(app)
    # Outermost last: correlation id and metrics see every answer, limits apply before any work.
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(CorrelationMiddleware, metrics=runtime.metrics)
    app.add_middleware(TracingMiddleware)  # a server span around all of it, continuing the caller's trace
    app.include_router(health_router)
    app.include_router(ops_router)
    for router in routers:
        app.include_router(router)
    return app
