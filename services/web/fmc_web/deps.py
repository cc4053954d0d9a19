"""What endpoints declare: the page (session, language, rendering), the services, the CSRF check.

The only module that reads ``request.app.state`` (the ``WebRuntime`` the composition root built).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fmc_common.clock import Clock
from fmc_web.clients import ServiceProblem, Services
from fmc_web.i18n import Lang, Translator, choose
from fmc_web.limits import AddressLimiter, TtlCache
from fmc_web.middleware import SCOPE_KEY, SessionHolder
from fmc_web.oidc import OidcClient
from fmc_web.session import LANG_COOKIE, Session
from fmc_web.settings import WebSettings

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@dataclass
class WebRuntime:
    settings: WebSettings
    services: Services
    oidc: OidcClient
    templates: Jinja2Templates
    clock: Clock
    # The public arena and the live pages: public data kept a few seconds, anonymous battles per address.
    cache: TtlCache = field(default_factory=lambda: TtlCache(0))
    limiter: AddressLimiter = field(default_factory=lambda: AddressLimiter(10))


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def runtime_of(request: Request) -> WebRuntime:
    runtime = request.app.state.web
    if not isinstance(runtime, WebRuntime):
        raise TypeError("the app was not built by fmc_web.main.create_app")
    return runtime


RuntimeDep = Annotated[WebRuntime, Depends(runtime_of)]


class Page:
    """One request's page: who is signed in, in which language, and how to render for them."""

    def __init__(self, request: Request, runtime: WebRuntime) -> None:
        self.request = request
        self.runtime = runtime
        holder = request.scope.get("state", {}).get(SCOPE_KEY)
        if not isinstance(holder, SessionHolder):
            raise TypeError("SessionMiddleware is not installed")
        self.holder = holder
        self.lang: Lang = choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        self.t = Translator(self.lang)

    @property
    def session(self) -> Session:
        return self.holder.session

    @property
    def services(self) -> Services:
        return self.runtime.services

    def token(self) -> str:
        """The signed-in person's token; not signed in: off to sign in, then back here."""
        if self.session.token is None:
            path = self.request.url.path
            query = self.request.url.query
            raise SignInRequired(f"{path}?{query}" if query else path)
        return self.session.token

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        base = {
            "t": self.t,
            "lang": self.lang.value,
            "session": self.session,
            "csrf": self.session.csrf,
            "path": self.request.url.path,
        }
        return self.runtime.templates.TemplateResponse(
            self.request, template, base | context, status_code=status
        )


def page_of(request: Request, runtime: RuntimeDep) -> Page:
    return Page(request, runtime)


PageDep = Annotated[Page, Depends(page_of)]


async def csrf_checked(request: Request, page: PageDep) -> None:
    """Every POST carries the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``),
    and, when the browser says where it comes from, comes from this site."""
    origin = request.headers.get("origin")
    if origin is not None:
        own = urlsplit(page.runtime.settings.public_url)
        came = urlsplit(origin)
        if (came.scheme, came.netloc) != (own.scheme, own.netloc):
            raise ServiceProblem(403, "csrf-failed", "the request came from another site")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, page.session.csrf):
        raise ServiceProblem(403, "csrf-failed", "the CSRF token is missing or does not match")


CsrfChecked = Depends(csrf_checked)
