"""The team portal: the team's submissions, its runs of the current stage with their progress (updated
by ``static/team.js`` polling ``/team/progress``), its own published result with the feedback written to
it, every notification with the objection window and a countdown to the deadline (Korea time), filing
an objection (with an attachment) and following it: versions, history, amending, withdrawing, and the
attachments, downloadable by the team only (grievance checks the token's team)."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fmc_web import team_views, views
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
    submissions = await _submissions(page, token, team_id, stages)
    current = team_views.current_stage(stages, submissions)
    runs: list[team_views.RunLine] = []
    runs_unavailable = False
    try:
        runs = await team_views.runs(services, token, current) if current else []
    except ServiceProblem as problem:
        if problem.status < 500:
            raise
        runs_unavailable = True  # the rest of the portal is still worth showing; the script retries
    outcomes = []
    for stage in stages:
        if any(s.stage_id == stage.id and s.frozen_at for s in submissions):
            found = await team_views.outcome(services, token, team_id, stage)
            if found is not None:
                outcomes.append(found)
    notifications = await team_views.notifications(services, token)
    objections = await services.call("GET", "grievance", "/v1/objections", token=token, params={"limit": 100})
    now = page.runtime.clock.now()
    return page.render(
        "team.html",
        stages={s.id: s for s in stages},
        submissions=submissions,
        current=current,
        runs=runs,
        runs_unavailable=runs_unavailable,
        polling=team_views.moving(current, runs, any(o.stage == current for o in outcomes)),
        outcomes=outcomes,
        notifications=[(n, views.remaining(now, n.window.closes_at)) for n in notifications],
        objections=[views.Objection.model_validate(o) for o in objections["items"]],
        filed=filed,
        now=now,
        # One key per form shown: a double submission files one objection (the grievance service's rule).
        idempotency_key=secrets.token_urlsafe(16),
    )


async def _submissions(
    page: Page, token: str, team_id: uuid.UUID, stages: list[views.Stage]
) -> list[views.Submission]:
    submissions: list[views.Submission] = []
    for stage in stages:
        found = await page.services.call(
            "GET",
            "registry",
            f"/v1/stages/{stage.id}/submissions",
            token=token,
            params={"team_id": str(team_id)},
        )
        submissions += [views.Submission.model_validate(s) for s in found]
    return submissions


@router.get("/team/progress")
async def progress(page: PageDep) -> JSONResponse:
    """The runs of the current stage as ``team.js`` redraws them: counts, status, words in the
    person's language; nothing a score is made of (the gateway holds no grade)."""
    token, team_id = _team(page)
    stages = [s for _, listed in await views.programmes(page.services) for s in listed]
    current = team_views.current_stage(stages, await _submissions(page, token, team_id, stages))
    runs = await team_views.runs(page.services, token, current) if current else []
    published = current is not None and await team_views.published(page.services, token, team_id, current)
    t = page.t
    return JSONResponse(
        {
            "stage_id": str(current.id) if current else None,
            "running": team_views.moving(current, runs, published),
            "runs": [
                {
                    "id": str(r.id),
                    "suite": r.suite,
                    "status": r.status,
                    "status_text": t.maybe(f"team.run.{r.status}", r.status),
                    "done": r.done,
                    "total": r.total,
                    "errored": r.errored,
                    "done_text": t("team.run_done", done=r.done, total=r.total),
                    "errored_text": t("team.run_errored", errored=r.errored),
                }
                for r in runs
            ],
        },
        headers={"Cache-Control": "no-store"},
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
    added = await _attachment(attachment)
    if added is not None:
        body["attachments"] = [added]
    filed = await page.services.call(
        "POST",
        "grievance",
        "/v1/objections",
        token=token,
        json=body,
        headers={"Idempotency-Key": idempotency_key},
    )
    return RedirectResponse(f"/team?filed={filed['id']}", status_code=303)


@router.get("/team/objections/{objection_id}", response_class=HTMLResponse)
async def objection(page: PageDep, objection_id: uuid.UUID, changed: str | None = None) -> HTMLResponse:
    """One objection followed: where it stands, its window with the countdown, every version with
    its attachments, its history, and (while it is the team's to change) amending and withdrawing."""
    token, _ = _team(page)
    base = f"/v1/objections/{objection_id}"
    services = page.services
    detail = team_views.ObjectionDetail.model_validate(
        await services.call("GET", "grievance", base, token=token)
    )
    versions = await services.call("GET", "grievance", f"{base}/versions", token=token)
    history = await services.call("GET", "grievance", f"{base}/history", token=token, params={"limit": 200})
    return page.render(
        "team_objection.html",
        objection=detail,
        now=page.runtime.clock.now(),
        left=views.remaining(page.runtime.clock.now(), detail.window.closes_at),
        versions=[team_views.ObjectionVersion.model_validate(v) for v in versions["items"]],
        history=[team_views.HistoryEntry.model_validate(h) for h in history["items"]],
        changed=changed if changed in ("amended", "withdrawn") else None,
        idempotency_key=secrets.token_urlsafe(16),
    )


@router.post("/team/objections/{objection_id}/amendments", dependencies=[CsrfChecked])
async def amend_objection(
    page: PageDep,
    objection_id: uuid.UUID,
    grounds: Annotated[Grounds, Form()],
    statement: Annotated[str, Form(min_length=1, max_length=20_000)],
    idempotency_key: Annotated[str, Form(min_length=8, max_length=100)],
    keep: Annotated[list[str] | None, Form()] = None,
    attachment: Annotated[UploadFile | None, File()] = None,
) -> RedirectResponse:
    """A complete new version: the statement and grounds as given, the attachments ticked to keep
    (by their sha256, which grievance checks are the objection's), and one new attachment."""
    token, _ = _team(page)
    current = team_views.ObjectionDetail.model_validate(
        await page.services.call("GET", "grievance", f"/v1/objections/{objection_id}", token=token)
    )
    kept = [a for a in current.attachments if a.sha256 in set(keep or [])]
    attachments: list[dict[str, str]] = [
        {"name": a.name, "media_type": a.media_type, "sha256": a.sha256} for a in kept
    ]
    added = await _attachment(attachment)
    if added is not None:
        attachments.append(added)
    await page.services.call(
        "POST",
        "grievance",
        f"/v1/objections/{objection_id}/amendments",
        token=token,
        json={"grounds": grounds, "statement": statement, "attachments": attachments},
        headers={"Idempotency-Key": idempotency_key},
    )
    return RedirectResponse(f"/team/objections/{objection_id}?changed=amended", status_code=303)


@router.post("/team/objections/{objection_id}/withdrawal", dependencies=[CsrfChecked])
async def withdraw_objection(
    page: PageDep,
    objection_id: uuid.UUID,
    reason: Annotated[str, Form(min_length=10, max_length=4000)],
) -> RedirectResponse:
    token, _ = _team(page)
    await page.services.call(
        "POST",
        "grievance",
        f"/v1/objections/{objection_id}/withdrawal",
        token=token,
        json={"reason": reason},
    )
    return RedirectResponse(f"/team/objections/{objection_id}?changed=withdrawn", status_code=303)


@router.get("/team/objections/{objection_id}/attachments/{sha256}")
async def download(
    page: PageDep,
    objection_id: uuid.UUID,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    """The attachment's bytes, always as a download (never shown inline: the file is the team's,
    not this site's), with the name and type grievance stored."""
    token, _ = _team(page)
    found = await page.services.download(
        "grievance", f"/v1/objections/{objection_id}/attachments/{sha256}", token=token
    )
    headers = {
        "Content-Disposition": found.headers.get("content-disposition", "attachment"),
        "Cache-Control": "private, no-store",
    }
    media_type = found.headers.get("content-type", "application/octet-stream")
    return Response(content=found.content, media_type=media_type, headers=headers)


async def _attachment(upload: UploadFile | None) -> dict[str, str] | None:
    if upload is None or not upload.filename:
        return None
    content = await upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ServiceProblem(413, "attachment-too-large", f"at most {MAX_ATTACHMENT_BYTES} bytes")
    return {
        "name": upload.filename[:200],
        "media_type": upload.content_type or "application/octet-stream",
        "content_base64": base64.b64encode(content).decode(),
    }
