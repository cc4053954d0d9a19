"""The operator console: the stage board and the stage's result versions, proposing and approving."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse

from fmc_web import arena_console, console_ops, views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import CsrfChecked, Page, PageDep

router = APIRouter()


def _operator(page: Page) -> str:
    token = page.token()
    if page.session.role != "operator":
        raise ServiceProblem(403, "forbidden", "the console is for the evaluation office (operators)")
    return token


@router.get("/console", response_class=HTMLResponse)
async def board(page: PageDep) -> HTMLResponse:
    token = _operator(page)
    programmes, health = await asyncio.gather(
        views.programmes(page.services), console_ops.health(page.services, token)
    )
    return page.render("console_index.html", programmes=programmes, health=health)


@router.get("/console/stages/{stage_id}", response_class=HTMLResponse)
async def stage_console(
    stage_id: uuid.UUID, page: PageDep, approved: int | None = None, arena: str | None = None
) -> HTMLResponse:
    token = _operator(page)
    stage = await views.stage(page.services, stage_id)
    services = page.services
    found = await services.call("GET", "scoring", f"/v1/stages/{stage_id}/results", token=token)
    versions = [views.ResultVersion.model_validate(v) for v in found]
    teams = await services.call(
        "GET",
        "registry",
        "/v1/teams",
        token=token,
        params={"programme_id": str(stage.programme_id), "limit": 100},
    )
    runs = await services.call("GET", "scoring", f"/v1/stages/{stage_id}/runs", token=token)
    checks = await services.call(
        "GET", "scoring", "/v1/originality/checks", token=token, params={"limit": 100}
    )
    lines = views.board(
        {uuid.UUID(t["id"]): t["name"] for t in teams["items"]},
        [views.Run.model_validate(r) for r in runs],
        [c for c in (views.Check.model_validate(c) for c in checks["items"]) if c.stage_id == stage_id],
    )
    return page.render(
        "console_stage.html",
        stage=stage,
        versions=list(reversed(versions)),
        approved=approved,
        board=lines,
        # The public arena's switch (fmc_web.arena_console).
        arena_public=await arena_console.public_mode(services, stage_id, token),
        arena_saved=arena == "saved",
    )


@router.post("/console/stages/{stage_id}/results", dependencies=[CsrfChecked])
async def propose(stage_id: uuid.UUID, page: PageDep) -> RedirectResponse:
    token = _operator(page)
    await page.services.call("POST", "scoring", f"/v1/stages/{stage_id}/results", token=token)
    return RedirectResponse(f"/console/stages/{stage_id}", status_code=303)


@router.post("/console/stages/{stage_id}/approval", dependencies=[CsrfChecked])
async def approve(
    stage_id: uuid.UUID, page: PageDep, version: Annotated[int, Form(ge=1, le=1_000_000)]
) -> RedirectResponse:
    token = _operator(page)
    await page.services.call(
        "POST", "scoring", f"/v1/stages/{stage_id}/results/{version}/approval", token=token
    )
    return RedirectResponse(f"/console/stages/{stage_id}?approved={version}", status_code=303)
