"""The web tier in tests: its settings, the dev OpenID Connect provider, and signing in through it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from fmc_common.settings import AuthSettings
from fmc_web.settings import WebSettings

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
