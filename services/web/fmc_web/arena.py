"""The public arena: a prompt, two anonymous answers (streamed side by side), one vote, then who answered.

The streamed battle goes browser -> web tier -> scoring's NDJSON stream, line by line as it arrives;
without JavaScript the form posts to the whole (non-streamed) battle and the page shows both answers.

Voters are registered field users (their own evaluator token), or, on a stage whose public mode an
operator switched on, anyone without signing in: the web tier then calls scoring's anonymous routes
with its own service token, names the person by a pseudonym of a random id in their session cookie,
and limits anonymous battles per client address (``fmc_web.limits``).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from fmc_web import views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import CsrfChecked, Page, PageDep
from fmc_web.i18n import Translator
from fmc_web.limits import client_address, voter_pseudonym

router = APIRouter()

Prompt = Annotated[str, Field(min_length=1, max_length=8000)]
Choice = Literal["a", "b", "tie", "both-bad"]


class PromptIn(BaseModel):
    prompt: Prompt


async def _open_stages(page: Page) -> tuple[list[views.Stage], set[uuid.UUID]]:
    """The stages being evaluated and those of them open to anonymous voters (kept a few seconds:
    every visitor's list, and the live list every browser polls)."""

    async def load() -> tuple[list[views.Stage], set[uuid.UUID]]:
        listed = await views.programmes(page.services)
        found = await page.services.call("GET", "scoring", "/v1/arena/settings", token=_own_token(page))
        public = {uuid.UUID(s["stage_id"]) for s in found if s["public"]}
        return [s for _, stages in listed for s in stages if s.status == "evaluating"], public

    return await page.runtime.cache.get("arena-stages", load)


@router.get("/arena", response_class=HTMLResponse)
async def arena_index(page: PageDep) -> HTMLResponse:
    stages, public = await _open_stages(page)
    return page.render("arena_index.html", stages=stages, public=public, live=_live(page, "/arena/live"))


@router.get("/arena/live", response_class=HTMLResponse)
async def arena_live(page: PageDep) -> HTMLResponse:
    """The list of stages alone, for the page's script to refresh it without a reload."""
    stages, public = await _open_stages(page)
    return page.render("arena_stages.html", stages=stages, public=public)


def _live(page: Page, path: str) -> dict[str, Any]:
    return {"path": path, "seconds": page.runtime.settings.live_refresh_seconds}


def _own_token(page: Page) -> str:
    token = page.services.own_token("scoring")
    if token is None:
        raise ServiceProblem(
            503, "service-unavailable", "the web tier has no service key (FMC_AUTH_SERVICE_KEY)"
        )
    return token


@dataclass(frozen=True)
class Voter:
    """Who asks scoring: a field user with their token, or an anonymous person (the web tier's
    token and their pseudonym, through scoring's anonymous routes)."""

    token: str
    pseudonym: str | None = None

    def path(self, path: str) -> str:
        """``/v1/stages/{id}/arena/battles`` -> ``/v1/stages/{id}/arena/anonymous/battles`` etc."""
        return path.replace("/arena/", "/arena/anonymous/", 1) if self.pseudonym else path

    def body(self, **fields: str) -> dict[str, str]:
        return fields | {"voter": self.pseudonym} if self.pseudonym else fields


def _voter(page: Page, *, starting: bool = False) -> Voter:
    """The signed-in field user; else the anonymous person of this session (a new battle is counted
    against their address's limit). Scoring refuses anonymous voters where the stage is not public."""
    if page.session.signed_in:
        token = page.token()
        if page.session.role != "evaluator":
            raise ServiceProblem(403, "forbidden", "voters hold a field-user (evaluator) account")
        return Voter(token)
    token = _own_token(page)
    if starting:
        request = page.request
        address = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            page.runtime.settings.forwarded_hops,
        )
        if not page.runtime.limiter.allow(address):
            limit = page.runtime.settings.anonymous_battles_per_minute
            raise ServiceProblem(
                429,
                "anonymous-rate-limited",
                f"{limit} comparisons a minute from one address",
                {"limit": limit},
            )
    voter = page.session.voter
    if voter is None:
        voter = secrets.token_urlsafe(24)
        page.holder.replace(page.session.model_copy(update={"voter": voter}))
    key = page.runtime.settings.session_key.get_secret_value().encode()
    return Voter(token, voter_pseudonym(key, voter))


@router.get("/arena/stages/{stage_id}", response_class=HTMLResponse)
async def arena_page(stage_id: uuid.UUID, page: PageDep) -> HTMLResponse:
    """A signed-in field user, or anyone while the stage is public; otherwise the page says to sign
    in (with the problem code ``arena-not-public``)."""
    public = True
    if page.session.signed_in:
        _voter(page)
    else:
        found = await page.services.call(
            "GET", "scoring", f"/v1/stages/{stage_id}/arena/settings", token=_own_token(page)
        )
        public = bool(found["public"])
    stage = await views.stage(page.services, stage_id)
    return page.render("arena.html", stage=stage, battle=None, public=public)


@router.post("/arena/stages/{stage_id}/battles", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def battle_whole(
    stage_id: uuid.UUID, page: PageDep, prompt: Annotated[str, Form(min_length=1, max_length=8000)]
) -> HTMLResponse:
    """Without JavaScript: the whole battle, then the same page with both answers and the vote form."""
    voter = _voter(page, starting=True)
    stage = await views.stage(page.services, stage_id)
    found = await page.services.call(
        "POST",
        "scoring",
        voter.path(f"/v1/stages/{stage_id}/arena/battles"),
        token=voter.token,
        json=voter.body(prompt=prompt),
    )
    battle = views.Battle(
        battle_id=found["battle_id"], prompt=found["prompt"], a=found["answers"]["a"], b=found["answers"]["b"]
    )
    return page.render("arena.html", stage=stage, battle=battle, public=True)


@router.post("/arena/stages/{stage_id}/battles/stream", dependencies=[CsrfChecked])
async def battle_stream(stage_id: uuid.UUID, body: PromptIn, page: PageDep) -> StreamingResponse:
    """Scoring's NDJSON battle events, passed on line by line (text of A and B, then done or error).
    A refusal before the stream comes back as JSON with the message in the person's language."""
    voter = _voter(page, starting=True)
    opened = page.services.stream(
        "scoring",
        voter.path(f"/v1/stages/{stage_id}/arena/battles/stream"),
        token=voter.token,
        json=voter.body(prompt=body.prompt),
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
    voter = _voter(page)
    found = await page.services.call(
        "POST",
        "scoring",
        voter.path(f"/v1/arena/battles/{battle_id}/vote"),
        token=voter.token,
        json=voter.body(choice=choice),
    )
    return page.render("arena_vote.html", vote=views.Vote.model_validate(found), stage_id=stage_id)
