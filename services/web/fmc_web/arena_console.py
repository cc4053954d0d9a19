"""The operator console's switch of a stage's anonymous public arena (scoring's
``PUT /v1/stages/{id}/arena/settings`` with the operator's own token; scoring audits it)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from fmc_web.clients import ServiceProblem, Services
from fmc_web.deps import CsrfChecked, PageDep

router = APIRouter()


async def public_mode(services: Services, stage_id: uuid.UUID, token: str) -> bool:
    """Whether the stage's arena is open to anonymous voters now (for the console's stage page)."""
    found = await services.call("GET", "scoring", f"/v1/stages/{stage_id}/arena/settings", token=token)
    return bool(found["public"])


@router.post("/console/stages/{stage_id}/arena", dependencies=[CsrfChecked])
async def switch_public(
    stage_id: uuid.UUID,
    page: PageDep,
    public: Annotated[bool, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    token = page.token()
    if page.session.role != "operator":
        raise ServiceProblem(403, "forbidden", "the console is for the evaluation office (operators)")
    body = {"public": public, "reason": reason.strip() or "set from the operator console"}
    await page.services.call(
        "PUT", "scoring", f"/v1/stages/{stage_id}/arena/settings", token=token, json=body
    )
    return RedirectResponse(f"/console/stages/{stage_id}?arena=saved#arena", status_code=303)
