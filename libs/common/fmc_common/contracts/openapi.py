"""Each service's OpenAPI document, taken from its composition root without starting it.

The app is built by the service's own ``create_app(settings)``; nothing connects (the lifespan, which
starts the runtime, never runs). Services announce their ``create_app`` under the ``fmc.services``
entry-point group (their pyproject.toml), so this library neither imports nor names them.
"""

from __future__ import annotations

import tempfile
import typing
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import UnionType
from typing import Any

from fmc_common.settings import AuthSettings

ENTRY_POINT_GROUP = "fmc.services"


@dataclass(frozen=True)
class ServiceApp:
    """A service found through its entry point; its code is imported only when it is needed."""

    entry: EntryPoint

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def create_app(self) -> Callable[..., Any]:
        create_app: Callable[..., Any] = self.entry.load()
        return create_app

    @property
    def settings_class(self) -> type[Any]:
        """The settings type of ``create_app(settings: X | None = None, ...)``."""
        hint = typing.get_type_hints(self.create_app)["settings"]
        if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        if not isinstance(hint, type):
            raise TypeError(f"{self.name}: create_app's settings parameter has no class: {hint!r}")
        return hint


def services() -> tuple[ServiceApp, ...]:
    found = tuple(
        ServiceApp(entry)
        for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda entry: entry.name)
    )
    if not found:
        raise LookupError(f"no service is installed under the {ENTRY_POINT_GROUP!r} entry points")
    return found


# Read from the installed packages' metadata; nothing of the services is imported here.
SERVICES = services()


# The app is never served, but its settings insist on a users' key set: an empty one.
_NO_KEYS = '{"keys": []}'


def build_app(service: ServiceApp) -> Any:
    """The service's FastAPI app, built from in-memory settings; its lifespan is not entered."""
    # A file URL (never opened: nothing connects before the lifespan starts) rather than :memory:,
    # whose single-connection pool rejects the pool options a service may set.
    database = Path(tempfile.gettempdir()) / f"fmc-contracts-{service.name}.db"
    settings = service.settings_class(
        database_url=f"sqlite+aiosqlite:///{database}",
        migrate_on_start=False,
        auth=AuthSettings(jwks=_NO_KEYS),
    )
    return service.create_app(settings)


def openapi_documents() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        document: dict[str, Any] = build_app(service).openapi()
        documents[service.name] = document
    return documents
