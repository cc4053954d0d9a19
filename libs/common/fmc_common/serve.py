"""Entry point shared by the services: ``fmc-<service> serve`` and ``fmc-<service> migrate``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

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
    config = uvicorn.Config(
        app_factory(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
    )
    uvicorn.Server(config).run()
