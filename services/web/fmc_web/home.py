"""The home page, the language switch and the probes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from fmc_web.deps import CsrfChecked, PageDep
from fmc_web.i18n import Lang
from fmc_web.middleware import cookie_header
from fmc_web.oidc import safe_next
from fmc_web.session import LANG_COOKIE

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def home(page: PageDep) -> HTMLResponse:
    return page.render("home.html")


@router.post("/lang", dependencies=[CsrfChecked])
async def switch_language(
    page: PageDep, lang: Annotated[Lang, Form()], next: Annotated[str, Form(max_length=2000)] = "/"
) -> RedirectResponse:
    """The person's language, kept in a cookie of its own (a year): it outlives signing out."""
    response = RedirectResponse(safe_next(next), status_code=303)
    secure = page.runtime.settings.secure_cookies
    header = cookie_header(LANG_COOKIE, lang.value, max_age=365 * 86400, secure=secure, http_only=True)
    response.headers.append("set-cookie", header.decode("latin-1"))
    return response


@router.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    return "ok"


@router.get("/readyz", response_class=PlainTextResponse)
async def readyz() -> str:
    """Ready as soon as it serves: the pages say so themselves when a service is unreachable."""
    return "ok"
