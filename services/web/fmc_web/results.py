"""Public results: programmes, stages, who advanced and who was eliminated with the reason category,
the objection window with its deadline in Korea time, corrections marked. Never a score or a rank:
the page reads only scoring's public view, which has none.

A stage's page refreshes its result without a reload (``/results/stages/{id}/live``, polled by
``static/live.js``); what it shows is kept a few seconds on the web tier, so many browsers polling
cost the services one call per period."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from fmc_web import views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import Page, PageDep

router = APIRouter()


@router.get("/results", response_class=HTMLResponse)
async def results_index(page: PageDep) -> HTMLResponse:
    return page.render("results_index.html", programmes=await views.programmes(page.services))


async def _stage_result(page: Page, stage_id: uuid.UUID) -> tuple[views.Stage, views.PublicResult | None]:
    async def load() -> tuple[views.Stage, views.PublicResult | None]:
        stage = await views.stage(page.services, stage_id)
        try:
            found = await page.services.call(
                "GET", "scoring", f"/v1/public/stages/{stage_id}/results", token=None
            )
        except ServiceProblem as problem:
            if problem.status != 404:
                raise
            return stage, None
        return stage, views.PublicResult.model_validate(found)

    return await page.runtime.cache.get(("results", stage_id), load)


@router.get("/results/stages/{stage_id}", response_class=HTMLResponse)
async def stage_results(stage_id: uuid.UUID, page: PageDep) -> HTMLResponse:
    stage, result = await _stage_result(page, stage_id)
    live = {"path": f"/results/stages/{stage_id}/live", "seconds": page.runtime.settings.live_refresh_seconds}
    return page.render("results_stage.html", stage=stage, result=result, live=live)


@router.get("/results/stages/{stage_id}/live", response_class=HTMLResponse)
async def stage_results_live(stage_id: uuid.UUID, page: PageDep) -> HTMLResponse:
    """The stage's status, objection window and result alone, for the page's script."""
    stage, result = await _stage_result(page, stage_id)
    return page.render("results_stage_live.html", stage=stage, result=result)
