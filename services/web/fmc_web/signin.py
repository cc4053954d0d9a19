"""Signing in with the OpenID Connect provider (code flow with PKCE), and signing out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from fmc_web.clients import ServiceProblem
from fmc_web.deps import CsrfChecked, PageDep
from fmc_web.oidc import SignInFailed
from fmc_web.session import Session

router = APIRouter()


def signin_url(next_path: str) -> str:
    return f"/signin?{urlencode({'next': next_path})}"


@router.get("/signin")
async def signin(page: PageDep, next: Annotated[str, Query(max_length=2000)] = "/") -> RedirectResponse:
    """Off to the provider; the session remembers the state, nonce and PKCE verifier of this attempt."""
    try:
        pending, target = await page.runtime.oidc.start(next, page.lang.value)
    except SignInFailed as exc:
        raise ServiceProblem(503, "signin-failed", str(exc)) from exc
    page.holder.replace(page.session.model_copy(update={"pending": pending}))
    return RedirectResponse(target, status_code=303)


@router.get("/auth/callback")
async def callback(
    page: PageDep,
    state: Annotated[str, Query(max_length=500)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    pending = page.session.pending
    if error or pending is None or not code:
        raise ServiceProblem(400, "signin-failed", error or "no sign-in was started in this browser")
    try:
        signed_in = await page.runtime.oidc.finish(pending, state, code)
    except SignInFailed as exc:
        page.holder.replace(page.session.model_copy(update={"pending": None}))
        raise ServiceProblem(400, "signin-failed", str(exc)) from exc
    actor = signed_in.actor
    # A new session (and CSRF token) at sign-in: nothing planted before it carries over.
    page.holder.replace(
        Session(
            token=signed_in.access_token, subject=actor.subject, role=actor.role.value, team_id=actor.team_id
        )
    )
    return RedirectResponse(pending.next, status_code=303)


@router.post("/signout", dependencies=[CsrfChecked])
async def signout(page: PageDep) -> RedirectResponse:
    page.holder.replace(Session())
    return RedirectResponse("/", status_code=303)
