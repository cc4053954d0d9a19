"""The team portal: the team's submissions, its notifications with the objection window and a
countdown to the deadline (Korea time), filing an objection (with an attachment) and following it."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from fmc_web import views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import CsrfChecked, Page, PageDep

router = APIRouter()

Grounds = Literal["process-defect", "scoring-error", "originality-judgement", "other"]
# The grievance service checks size and type again; this only spares an upload it would refuse.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _team(page: Page) -> tuple[str, uuid.UUID]:
    token = page.token()
    if page.session.role != "team" or page.session.team_id is None:
        raise ServiceProblem(403, "forbidden", "the team portal is for members of a team")
    return token, page.session.team_id


@router.get("/team", response_class=HTMLResponse)
async def portal(page: PageDep, filed: uuid.UUID | None = None) -> HTMLResponse:
    token, team_id = _team(page)
    services = page.services
    stages = [s for _, listed in await views.programmes(services) for s in listed]
    submissions: list[views.Submission] = []
    for stage in stages:
        found = await services.call(
            "GET",
            "registry",
            f"/v1/stages/{stage.id}/submissions",
            token=token,
            params={"team_id": str(team_id)},
        )
        submissions += [views.Submission.model_validate(s) for s in found]
    notified = await services.call(
        "GET", "grievance", "/v1/notifications", token=token, params={"current": "true", "limit": 100}
    )
    notifications = [views.Notification.model_validate(n) for n in notified["items"]]
    objections = await services.call("GET", "grievance", "/v1/objections", token=token, params={"limit": 100})
    now = page.runtime.clock.now()
    return page.render(
        "team.html",
        stages={s.id: s for s in stages},
        submissions=submissions,
        notifications=[(n, views.remaining(now, n.window.closes_at)) for n in notifications],
        objections=[views.Objection.model_validate(o) for o in objections["items"]],
        filed=filed,
        # One key per form shown: a double submission files one objection (the grievance service's rule).
        idempotency_key=secrets.token_urlsafe(16),
    )


@router.post("/team/objections", dependencies=[CsrfChecked])
async def file_objection(
    page: PageDep,
    decision_kind: Annotated[Literal["stage-result", "selection-decision"], Form()],
    decision_id: Annotated[uuid.UUID, Form()],
    grounds: Annotated[Grounds, Form()],
    statement: Annotated[str, Form(min_length=1, max_length=20_000)],
    idempotency_key: Annotated[str, Form(min_length=8, max_length=100)],
    attachment: Annotated[UploadFile | None, File()] = None,
) -> RedirectResponse:
    token, _ = _team(page)
    body: dict[str, object] = {
        "decision": {"kind": decision_kind, "id": str(decision_id)},
        "grounds": grounds,
        "statement": statement,
        "attachments": [],
    }
    if attachment is not None and attachment.filename:
        content = await attachment.read(MAX_ATTACHMENT_BYTES + 1)
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ServiceProblem(413, "attachment-too-large", f"at most {MAX_ATTACHMENT_BYTES} bytes")
        body["attachments"] = [
            {
                "name": attachment.filename[:200],
                "media_type": attachment.content_type or "application/octet-stream",
                "content_base64": base64.b64encode(content).decode(),
            }
        ]
    filed = await page.services.call(
        "POST",
        "grievance",
        "/v1/objections",
        token=token,
        json=body,
        headers={"Idempotency-Key": idempotency_key},
    )
    return RedirectResponse(f"/team?filed={filed['id']}", status_code=303)
