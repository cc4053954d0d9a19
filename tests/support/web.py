"""The web tier in tests: its settings, the dev OpenID Connect provider, signing in through it, and
the in-process world of the web tier in front of the real registry and scoring."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.identity import Client, Provider
from fmc_devrunner.identity import create_app as create_provider
from fmc_devrunner.ports import free_port
from fmc_grievance.main import create_app as create_grievance
from fmc_grievance.settings import GrievanceSettings
from fmc_registry.main import create_app as create_registry
from fmc_registry.settings import RegistrySettings
from fmc_scoring.main import create_app as create_scoring
from fmc_scoring.settings import ScoringSettings
from fmc_web.main import create_app as create_web
from fmc_web.settings import WebSettings
from registry.factories import stage_to, submission_body
from registry.harness import Registry
from support.databases import DatabaseFactory, postgres_available
from support.kafka import broker_settings
from support.services import bearer, serving

WEB = "https://web"
IDP = "https://idp"

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class HostRouter(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app serving its host (``http://idp``, ``https://web``...)."""

    def __init__(self, apps: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        app = self.apps.get(request.url.host)
        if app is None:  # no service there: as a refused connection would be
            raise httpx.ConnectError(f"nothing serves {request.url.host}", request=request)
        return await app.handle_async_request(request)


def web_settings(
    auth: AuthSettings, *, issuer: str, public_url: str, services: dict[str, str]
) -> WebSettings:
    return WebSettings(
        public_url=public_url,
        oidc_issuer=issuer,
        session_key=SecretStr(Fernet.generate_key().decode()),
        registry_url=services.get("registry", "http://registry"),
        scoring_url=services.get("scoring", "http://scoring"),
        grievance_url=services.get("grievance", "http://grievance"),
        gateway_url=services.get("gateway", "http://gateway"),
        auth=auth,
    )


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "the page carries no CSRF field"
    return found.group(1)


async def sign_in(
    web: httpx.AsyncClient,
    idp: httpx.AsyncClient,
    subject: str,
    role: str,
    team_id: str = "",
    next_path: str = "/",
) -> httpx.Response:
    """The browser's part of the code flow: to the provider, its sign-in form, back to the callback."""
    started = await web.get("/signin", params={"next": next_path})
    assert started.status_code == 303, started.text
    authorize = started.headers["location"]
    form_page = await idp.get(authorize)
    assert form_page.status_code == 200, form_page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    granted = await idp.post(
        "/authorize", data=query | {"subject": subject, "role": role, "team_id": team_id}
    )
    assert granted.status_code == 302, granted.text
    callback = urlsplit(granted.headers["location"])
    return await web.get(f"{callback.path}?{callback.query}")


@dataclass
class WebWorld:
    """The web tier in front of the real registry and scoring, with the dev provider, all in-process
    behind one routing transport (``WEB`` and ``IDP`` for a browser)."""

    router: HostRouter
    registry: Registry
    scoring: httpx.AsyncClient
    scoring_app: FastAPI
    auth: AuthSettings

    def operator(self) -> dict[str, str]:
        return bearer(self.auth, Role.OPERATOR, subject="office")

    async def evaluating(
        self, stage_id: uuid.UUID, teams: Iterable[uuid.UUID], criteria: dict[str, Any]
    ) -> None:
        """The stage's criteria set, each team's submission frozen, and the stage's evaluation started."""
        put = await self.scoring.put(
            f"/v1/stages/{stage_id}/criteria", json=criteria, headers=self.operator()
        )
        assert put.status_code == 200, put.text
        await stage_to(self.registry, stage_id, "open-for-submissions")
        for team_id in teams:
            submitted = await self.registry.client.post(
                f"/v1/stages/{stage_id}/teams/{team_id}/submissions",
                json=submission_body(),
                headers=self.registry.as_team(team_id),
            )
            assert submitted.status_code == 201, submitted.text
        await stage_to(self.registry, stage_id, "evaluating")

    async def browser(self, exits: AsyncExitStack) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        """A browser of its own (its own cookies): its client of the web tier and of the provider."""
        web = await exits.enter_async_context(httpx.AsyncClient(transport=self.router, base_url=WEB))
        idp = await exits.enter_async_context(httpx.AsyncClient(transport=self.router, base_url=IDP))
        return web, idp


World = TypeVar("World", bound=WebWorld)


@asynccontextmanager
async def web_world(
    kind: type[World],
    backend: str,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    label: str,
    *,
    grievance: bool = False,
) -> AsyncIterator[World]:
    """Registry and scoring (their real lifespans, the real broker, databases on ``backend``), grievance
    too if asked (else nothing serves its host), the dev provider and the web tier, served; ``kind``
    (a ``WebWorld`` whose own fields have defaults) made of them. ``label`` names the temporary
    folders. On PostgreSQL it skips (fails under FMC_REQUIRE_POSTGRES=1) when none is reachable; the
    databases are dropped afterwards."""
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    databases = DatabaseFactory(backend, tmp_path_factory.mktemp(label))
    kafka = broker_settings(broker)
    registry_url = await databases.create("registry")
    registry_app = create_registry(
        RegistrySettings(
            database_url=registry_url,
            kafka=kafka,
            auth=auth_settings,
            grpc_port=free_port(),
            relay_poll_interval_seconds=0.05,
        )
    )
    registry_app.state.runtime.consumers = []  # it only publishes here
    scoring_app = create_scoring(
        ScoringSettings(
            database_url=await databases.create("scoring"),
            kafka=kafka,
            auth=auth_settings,
            grpc_port=free_port(),
            relay_poll_interval_seconds=0.05,
            suites_directory=tmp_path_factory.mktemp(f"{label}-suites"),
            grading_bootstrap_rounds=200,
            gateway_url="http://gateway",
        )
    )
    provider = Provider(IDP, auth_settings.keys.users, [Client("fmc-web", (f"{WEB}/auth/callback",))])  # type: ignore[attr-defined]
    router = HostRouter({})
    services = {"registry": "http://registry", "scoring": "http://scoring", "grievance": "http://grievance"}
    web_app = create_web(
        web_settings(auth_settings, issuer=IDP, public_url=WEB, services=services), transport=router
    )
    router.apps |= {
        "idp": httpx.ASGITransport(app=create_provider(provider)),
        "web": httpx.ASGITransport(app=web_app),
        "registry": httpx.ASGITransport(app=registry_app),
        "scoring": httpx.ASGITransport(app=scoring_app),
    }
    grievance_app: FastAPI | None = None
    if grievance:
        grievance_app = create_grievance(
            GrievanceSettings(
                database_url=await databases.create("grievance"),
                kafka=kafka,
                auth=auth_settings,
                grpc_port=free_port(),
            )
        )
        grievance_app.state.runtime.consumers = []  # only read here
        router.apps["grievance"] = httpx.ASGITransport(app=grievance_app)
    try:
        async with AsyncExitStack() as running:
            registry_client = await running.enter_async_context(serving(registry_app))
            scoring_client = await running.enter_async_context(serving(scoring_app))
            if grievance_app is not None:
                await running.enter_async_context(serving(grievance_app))
            await running.enter_async_context(web_app.router.lifespan_context(web_app))
            registry = Registry(registry_client, registry_app, auth_settings, 0, registry_url, broker)
            yield kind(router, registry, scoring_client, scoring_app, auth_settings)
    finally:
        await databases.drop_all()
