"""The public arena: a prompt, two anonymous answers (streamed side by side), one vote, then who answered.

The streamed battle goes browser -> web tier -> scoring's NDJSON stream, line by line as it arrives;
without JavaScript the form posts to the whole (non-streamed) battle and the page shows both answers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from fmc_web import views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import CsrfChecked, Page, PageDep
from fmc_web.i18n import Translator

router = APIRouter()

Prompt = Annotated[str, Field(min_length=1, max_length=8000)]
Choice = Literal["a", "b", "tie", "both-bad"]


class PromptIn(BaseModel):
    prompt: Prompt


@router.get("/arena", response_class=HTMLResponse)
async def arena_index(page: PageDep) -> HTMLResponse:
    listed = await views.programmes(page.services)
    open_stages = [s for _, stages in listed for s in stages if s.status == "evaluating"]
    return page.render("arena_index.html", stages=open_stages)


def _voter(page: Page) -> str:
    token = page.token()
    if page.session.role != "evaluator":
        raise ServiceProblem(403, "forbidden", "voters hold a field-user (evaluator) account")
    return token


@router.get("/arena/stages/{stage_id}", response_class=HTMLResponse)
async def arena_page(stage_id: uuid.UUID, page: PageDep) -> HTMLResponse:
    _voter(page)
    stage = await views.stage(page.services, stage_id)
    return page.render("arena.html", stage=stage, battle=None)


@router.post("/arena/stages/{stage_id}/battles", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def battle_whole(
    stage_id: uuid.UUID, page: PageDep, prompt: Annotated[str, Form(min_length=1, max_length=8000)]
) -> HTMLResponse:
    """Without JavaScript: the whole battle, then the same page with both answers and the vote form."""
    token = _voter(page)
    stage = await views.stage(page.services, stage_id)
    found = await page.services.call(
        "POST", "scoring", f"/v1/stages/{stage_id}/arena/battles", token=token, json={"prompt": prompt}
    )
    battle = views.Battle(
        battle_id=found["battle_id"], prompt=found["prompt"], a=found["answers"]["a"], b=found["answers"]["b"]
    )
    return page.render("arena.html", stage=stage, battle=battle)


@router.post("/arena/stages/{stage_id}/battles/stream", dependencies=[CsrfChecked])
async def battle_stream(stage_id: uuid.UUID, body: PromptIn, page: PageDep) -> StreamingResponse:
    """Scoring's NDJSON battle events, passed on line by line (text of A and B, then done or error).
    A refusal before the stream comes back as JSON with the message in the person's language."""
    token = _voter(page)
    opened = page.services.stream(
        "scoring", f"/v1/stages/{stage_id}/arena/battles/stream", token=token, json={"prompt": body.prompt}
    )
    response = await opened.__aenter__()  # a refusal raises here, before anything is sent

    async def lines() -> AsyncIterator[bytes]:
        try:
            async for line in response.aiter_lines():
                if line:
                    yield translated(line, page.t) + b"\n"
        finally:
            # The person went away or the stream ended: close scoring's stream (it stops the models).
            await opened.__aexit__(None, None, None)

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def translated(line: str, t: Translator) -> bytes:
    """An error event gets its message in the person's language (the code is kept); the rest passes."""
    try:
        event = json.loads(line)
    except ValueError:
        return line.encode()
    if isinstance(event, dict) and event.get("type") == "error":
        code = str(event.get("code", "arena-unavailable"))
        event["message"] = t.problem(code, str(event.get("detail", "")), event)
        return json.dumps(event, ensure_ascii=False).encode()
    return line.encode()


@router.post("/arena/battles/{battle_id}/vote", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def vote(
    battle_id: uuid.UUID,
    page: PageDep,
    choice: Annotated[Choice, Form()],
    stage_id: Annotated[uuid.UUID, Form()],
) -> HTMLResponse:
    token = _voter(page)
    found = await page.services.call(
        "POST", "scoring", f"/v1/arena/battles/{battle_id}/vote", token=token, json={"choice": choice}
    )
    return page.render("arena_vote.html", vote=views.Vote.model_validate(found), stage_id=stage_id)
