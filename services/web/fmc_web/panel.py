"""Expert evaluation: the evaluator's blind list of the stage's models with a sample of each one's
responses, the rubric form, amending a score before the panel closes, declaring a conflict of
interest, and progress (a model in conflict is not the evaluator's to score).

Blind: the page names no team. Each model gets a label ("Model 3") from a hash of the evaluator, the
stage and the team, so the order differs between evaluators and stays the same for one; the form
posts the label and the web tier finds the team again, so no team id reaches the page either.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse

from fmc_web import views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import CsrfChecked, Page, PageDep

router = APIRouter()

Value = Annotated[float, Form(ge=0, le=100)]


def _evaluator(page: Page) -> tuple[str, str]:
    token = page.token()
    if page.session.role != "evaluator" or page.session.subject is None:
        raise ServiceProblem(403, "forbidden", "expert evaluation is for the panel's evaluators")
    return token, page.session.subject


def blind_labels(subject: str, stage_id: uuid.UUID, teams: list[uuid.UUID]) -> dict[int, uuid.UUID]:
    """Label number (from 1) -> team, in an order of the evaluator's own (not the registry's)."""
    ordered = sorted(
        set(teams), key=lambda t: hashlib.sha256(f"{subject}|{stage_id}|{t}".encode()).hexdigest()
    )
    return {number: team for number, team in enumerate(ordered, start=1)}


async def _models(page: Page, subject: str, stage_id: uuid.UUID) -> dict[int, uuid.UUID]:
    """The stage's models under evaluation (frozen submissions), read with the web tier's own token."""
    found = await page.services.call(
        "GET", "registry", f"/v1/stages/{stage_id}/submissions", token=views.own_token(page.services)
    )
    teams = [uuid.UUID(s["team_id"]) for s in found if s.get("frozen_at")]
    return blind_labels(subject, stage_id, teams)


@router.get("/panel", response_class=HTMLResponse)
async def panel_index(page: PageDep) -> HTMLResponse:
    _evaluator(page)
    listed = await views.programmes(page.services)
    stages = [s for _, found in listed for s in found if s.status == "evaluating"]
    return page.render("panel_index.html", stages=stages)


async def _sample(page: Page, token: str, stage_id: uuid.UUID, team: uuid.UUID) -> views.Sample | str | None:
    """The model's sampled responses; or the kind of conflict that keeps the evaluator from it; or
    None while scoring does not know the model yet (the registry froze it, scoring has not planned it)."""
    path = f"/v1/stages/{stage_id}/panel/teams/{team}/sample"
    try:
        return views.Sample.model_validate(await page.services.call("GET", "scoring", path, token=token))
    except ServiceProblem as problem:
        if problem.code == "model-not-found":
            return None
        if problem.code != "conflict-of-interest":
            raise
        return "affiliation" if problem.body.get("conflict") == "affiliation" else "declared"


@router.get("/panel/stages/{stage_id}", response_class=HTMLResponse)
async def panel_page(
    stage_id: uuid.UUID, page: PageDep, saved: int | None = None, declared: int | None = None
) -> HTMLResponse:
    token, subject = _evaluator(page)
    stage = await views.stage(page.services, stage_id)
    panel = views.Panel.model_validate(
        await page.services.call("GET", "scoring", f"/v1/stages/{stage_id}/panel", token=token)
    )
    labels = await _models(page, subject, stage_id)
    given = await page.services.call("GET", "scoring", f"/v1/stages/{stage_id}/panel/scores", token=token)
    by_team = {s.team_id: s for s in (views.Score.model_validate(g) for g in given)}
    samples = await asyncio.gather(*(_sample(page, token, stage_id, team) for team in labels.values()))
    models = [
        views.PanelModel(
            number=number,
            score=by_team.get(team),
            sample=found if isinstance(found, views.Sample) else None,
            conflict=found if isinstance(found, str) else None,
        )
        for (number, team), found in zip(labels.items(), samples, strict=True)
    ]
    scored, total = views.panel_progress(models)
    return page.render(
        "panel.html",
        stage=stage,
        panel=panel,
        models=models,
        scored=scored,
        total=total,
        saved=saved,
        declared=declared,
    )


@router.post("/panel/stages/{stage_id}/scores", dependencies=[CsrfChecked])
async def score(
    stage_id: uuid.UUID,
    page: PageDep,
    model: Annotated[int, Form(ge=1, le=1000)],
    technical_originality: Value,
    technological_capability: Value,
    readiness: Value,
    comment: Annotated[str, Form(min_length=1, max_length=4000)],
) -> RedirectResponse:
    token, subject = _evaluator(page)
    team = (await _models(page, subject, stage_id)).get(model)
    if team is None:
        raise ServiceProblem(404, "not-found", f"no model {model} in this stage")
    body = {
        "team_id": str(team),
        "technical_originality": technical_originality,
        "technological_capability": technological_capability,
        "readiness": readiness,
        "comment": comment,
    }
    await page.services.call("POST", "scoring", f"/v1/stages/{stage_id}/panel/scores", token=token, json=body)
    return RedirectResponse(f"/panel/stages/{stage_id}?saved={model}", status_code=303)


@router.post("/panel/stages/{stage_id}/scores/{score_id}/amendments", dependencies=[CsrfChecked])
async def amend(
    stage_id: uuid.UUID,
    score_id: uuid.UUID,
    page: PageDep,
    model: Annotated[int, Form(ge=1, le=1000)],
    technical_originality: Value,
    technological_capability: Value,
    readiness: Value,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> RedirectResponse:
    token, _ = _evaluator(page)
    body = {
        "technical_originality": technical_originality,
        "technological_capability": technological_capability,
        "readiness": readiness,
        "reason": reason,
    }
    path = f"/v1/stages/{stage_id}/panel/scores/{score_id}/amendments"
    await page.services.call("POST", "scoring", path, token=token, json=body)
    return RedirectResponse(f"/panel/stages/{stage_id}?saved={model}", status_code=303)


@router.post("/panel/stages/{stage_id}/conflicts", dependencies=[CsrfChecked])
async def declare_conflict(
    stage_id: uuid.UUID,
    page: PageDep,
    model: Annotated[int, Form(ge=1, le=1000)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> RedirectResponse:
    """The evaluator declares a conflict of interest with a blind model: the number is mapped back to
    the team here, so the page never holds a team id; scoring records it (it cannot be undone)."""
    token, subject = _evaluator(page)
    team = (await _models(page, subject, stage_id)).get(model)
    if team is None:
        raise ServiceProblem(404, "not-found", f"no model {model} in this stage")
    body = {"team_id": str(team), "reason": reason}
    await page.services.call(
        "POST", "scoring", f"/v1/stages/{stage_id}/panel/conflicts", token=token, json=body
    )
    return RedirectResponse(f"/panel/stages/{stage_id}?declared={model}", status_code=303)
