"""``fmc-registry [serve|migrate]``."""

from __future__ import annotations

from fastapi import FastAPI

from fmc_common.serve import main as serve_main
from fmc_common.settings import ServiceSettings
from fmc_registry.main import MIGRATIONS, create_app
from fmc_registry.settings import RegistrySettings


def _app(settings: ServiceSettings) -> FastAPI:
    assert isinstance(settings, RegistrySettings)
    return create_app(settings)


def main() -> None:
    serve_main(RegistrySettings, _app, MIGRATIONS)


if __name__ == "__main__":
    main()
