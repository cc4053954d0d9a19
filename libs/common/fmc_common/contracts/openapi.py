"""Each service's OpenAPI document, taken from its composition root without starting it.

The app is built by the service's own ``create_app(settings)``; nothing connects (the lifespan, which
starts the runtime, never runs). The services are looked up by module name so that this library does
not depend on them.
"""

from __future__ import annotations

import importlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from fmc_common.settings import AuthSettings


@dataclass(frozen=True)
class ServiceApp:
    name: str
    main_module: str
    settings_module: str
    settings_class: str


SERVICES: tuple[ServiceApp, ...] = (
    ServiceApp("registry", "fmc_registry.main", "fmc_registry.settings", "RegistrySettings"),
    ServiceApp("inference-gateway", "fmc_gateway.main", "fmc_gateway.settings", "GatewaySettings"),
    ServiceApp("scoring", "fmc_scoring.main", "fmc_scoring.settings", "ScoringSettings"),
    ServiceApp("grievance", "fmc_grievance.main", "fmc_grievance.settings", "GrievanceSettings"),
)

# Only signs nothing: the app is never served, but its settings insist on a key.
_EXPORT_ONLY_KEY = "openapi-export-only-not-a-secret"


def build_app(service: ServiceApp) -> Any:
    """The service's FastAPI app, built from in-memory settings; its lifespan is not entered."""
    settings_cls = getattr(importlib.import_module(service.settings_module), service.settings_class)
    # A file URL (never opened: nothing connects before the lifespan starts) rather than :memory:,
    # whose single-connection pool rejects the pool options a service may set.
    database = Path(tempfile.gettempdir()) / f"fmc-contracts-{service.name}.db"
    settings = settings_cls(
        database_url=f"sqlite+aiosqlite:///{database}",
        migrate_on_start=False,
        auth=AuthSettings(jwt_secret=SecretStr(_EXPORT_ONLY_KEY)),
    )
    create_app = importlib.import_module(service.main_module).create_app
    return create_app(settings)


def openapi_documents() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        document: dict[str, Any] = build_app(service).openapi()
        documents[service.name] = document
    return documents
