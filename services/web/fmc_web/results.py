"""Public results: programmes, stages, who advanced and who was eliminated with the reason category,
the objection window with its deadline in Korea time, corrections marked. Never a score or a rank:
the page reads only scoring's public view, which has none."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from fmc_web import views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import PageDep

router = APIRouter()


@router.get("/results", response_class=HTMLResponse)
async def results_index(page: PageDep) -> HTMLResponse:
    return page.render("results_index.html", programmes=await views.programmes(page.services))


@router.get("/results/stages/{stage_id}", response_class=HTMLResponse)
async def stage_results(stage_id: uuid.UUID, page: PageDep) -> HTMLResponse:
    stage = await views.stage(page.services, stage_id)
    try:
        found = await page.services.call(
            "GET", "scoring", f"/v1/public/stages/{stage_id}/results", token=None
        )
        result: views.PublicResult | None = views.PublicResult.model_validate(found)
    except ServiceProblem as problem:
        if problem.status != 404:
            raise
        result = None
    return page.render("results_stage.html", stage=stage, result=result)
