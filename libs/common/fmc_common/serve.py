"""Entry point shared by the services: ``fmc-<service> serve`` and ``fmc-<service> migrate``."""

from __future__ import annotations

import argparse
import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import uvicorn
from fastapi import FastAPI
from prometheus_client import start_http_server

from fmc_common import migrations
from fmc_common.logs import configure_logging
from fmc_common.settings import ServiceSettings


def main(
    settings_factory: Callable[[], ServiceSettings],
    app_factory: Callable[[ServiceSettings], FastAPI],
    migrations_path: Path,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(description="Run the service or its migrations.")
    parser.add_argument("command", choices=["serve", "migrate"], nargs="?", default="serve")
    args = parser.parse_args(argv)
    settings = settings_factory()
    configure_logging(settings.service_name, settings.log_level)
    if args.command == "migrate":
        asyncio.run(migrations.upgrade(migrations_path, settings.database_url))
        return
    app = app_factory(settings)
    start_metrics_server(settings, app)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
    )
    uvicorn.Server(config).run()


def start_metrics_server(
    settings: ServiceSettings, app: FastAPI
) -> tuple[WSGIServer, threading.Thread] | None:
    """``/metrics`` on ``settings.metrics_port`` too, from the service's own registry, in a daemon thread
    (it ends with the process); None when no metrics port is set."""
    if settings.metrics_port is None:
        return None
    registry = app.state.runtime.metrics.registry
    server, thread = start_http_server(settings.metrics_port, addr=settings.http_host, registry=registry)
    return server, thread
