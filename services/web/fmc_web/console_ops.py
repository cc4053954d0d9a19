"""The operator console's second half (issue 22): services' messaging health, the decision preview
(with the written feedback to each team), the objection review queue and the additional-selection
call. Operators only, as the rest of the console; each POST checks the CSRF token and goes to the
service that decides, with the operator's own token, so every rule stays the service's."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from fmc_web import views
from fmc_web.clients import ServiceProblem, Services
from fmc_web.deps import CsrfChecked, Page, PageDep

router = APIRouter()

# The services whose messaging the board shows, in the order the board lists them.
HEALTH_OF = ("registry", "inference-gateway", "scoring", "grievance")
OPEN_OBJECTIONS = ("received", "under-review")
CONCERNS = ("benchmark-suite", "expert-panel", "originality", "process")
FEEDBACK_MAX_CHARS = 20_000  # as scoring keeps it


def operator(page: Page) -> str:
    token = page.token()
    if page.session.role != "operator":
        raise ServiceProblem(403, "forbidden", "the console is for the evaluation office (operators)")
    return token


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DeadLetter(_Read):
    consumer: str
    source_topic: str
    reason: str
    at: datetime


class Consumer(_Read):
    name: str
    running: bool
    lag: int | None = None


class Health(_Read):
    unsent: int
    oldest_unsent_at: datetime | None
    dead_letters: int
    latest: list[DeadLetter]
    consumers: list[Consumer]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Health:
        return cls(
            unsent=body["outbox"]["unsent"],
            oldest_unsent_at=body["outbox"]["oldest_unsent_at"],
            dead_letters=body["dead_letters"]["count"],
            latest=body["dead_letters"]["latest"],
            consumers=body["consumers"],
        )


@dataclass(frozen=True)
class ServiceHealth:
    """One service's line on the board; ``problem`` when it did not answer (the board still shows)."""

    service: str
    health: Health | None
    problem: str | None


async def _health_of(services: Services, service: str, token: str) -> ServiceHealth:
    try:
        body = await services.call("GET", service, "/v1/ops/health", token=token)
    except ServiceProblem as problem:
        return ServiceHealth(service, None, problem.code)
    return ServiceHealth(service, Health.of(body), None)


async def health(services: Services, token: str) -> list[ServiceHealth]:
    """Every service's outbox backlog, dead letters and consumers, asked at once."""
    return list(await asyncio.gather(*(_health_of(services, s, token) for s in HEALTH_OF)))


# -- decision preview ---------------------------------------------------------------------------


class Suite(_Read):
    suite_key: str
    suite_version: str
    accuracy: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class SuiteLine:
    label: str
    accuracy: float
    ci_low: float
    ci_high: float
    minimum: float | None

    @property
    def below(self) -> bool:
        return self.minimum is not None and self.accuracy < self.minimum


@dataclass(frozen=True)
class PreviewLine:
    """What an operator weighs for one team before approving."""

    team_id: uuid.UUID
    name: str
    outcome: str
    reason: str | None
    rank: int | None
    composite: float | None
    benchmark_accuracy: float | None
    gates: dict[str, str]
    suites: list[SuiteLine]
    verdict: str | None
    open_objections: int


@dataclass(frozen=True)
class Preview:
    version: int
    status: str
    published: bool
    blocking: list[str]
    advancing_planned: int
    advancing: int
    overall_threshold: float | None
    teams: list[PreviewLine]


def preview(result: dict[str, Any], criteria: dict[str, Any], objections: list[uuid.UUID]) -> Preview:
    """The version's figures next to the criteria's thresholds, with each team's open objections.

    ``objections``: the team id of every open objection of the stage (one entry per objection).
    """
    minimum = {
        f"{s['suite_key']}@{s['suite_version']}": s.get("min_accuracy") for s in criteria.get("suites", [])
    }
    lines = []
    for team in result["teams"]:
        detail = team.get("detail") or {}
        inputs = detail.get("inputs") or {}
        suites = [
            SuiteLine(label, s.accuracy, s.ci_low, s.ci_high, minimum.get(label))
            for label, s in sorted(
                (label, Suite.model_validate(raw)) for label, raw in (inputs.get("suites") or {}).items()
            )
        ]
        team_id = uuid.UUID(team["team_id"])
        lines.append(
            PreviewLine(
                team_id=team_id,
                name=team["team_name"],
                outcome=team["outcome"],
                reason=team.get("reason"),
                rank=team.get("rank"),
                composite=team.get("composite"),
                benchmark_accuracy=detail.get("benchmark_accuracy"),
                gates={str(k): str(v) for k, v in (detail.get("gates") or {}).items()},
                suites=suites,
                verdict=(inputs.get("originality") or {}).get("verdict"),
                open_objections=objections.count(team_id),
            )
        )
    lines.sort(key=lambda line: (line.rank is None, line.rank or 0, line.name))
    return Preview(
        version=result["version"],
        status=result["status"],
        published=result.get("approved_at") is not None,
        blocking=list(result.get("blocking") or []),
        advancing_planned=result["advancing_planned"],
        advancing=result["advancing"],
        overall_threshold=criteria.get("overall_threshold"),
        teams=lines,
    )


async def _open_objections(services: Services, token: str, stage_id: uuid.UUID) -> list[dict[str, Any]]:
    """The stage's objections awaiting a decision (grievance lists by status; the stage is ours to pick)."""
    found = []
    for status in OPEN_OBJECTIONS:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"status": status, "limit": 100} | ({"cursor": cursor} if cursor else {})
            page = await services.call("GET", "grievance", "/v1/objections", token=token, params=params)
            found += [o for o in page["items"] if o["stage_id"] == str(stage_id)]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return found


class Feedback(_Read):
    """The latest revision of the feedback written to a team on a version (scoring keeps them all)."""

    version: int
    team_id: uuid.UUID
    revision: int
    text: str
    written_at: datetime
    published: bool


async def _feedback_of(
    services: Services, token: str, stage_id: uuid.UUID, version: int, team_id: uuid.UUID
) -> Feedback | None:
    """Scoring answers an operator every version's feedback to the team; this version's, if any."""
    path = f"/v1/stages/{stage_id}/teams/{team_id}/feedback"
    found = await services.call("GET", "scoring", path, token=token)
    mine = [f for f in (Feedback.model_validate(f) for f in found) if f.version == version]
    return mine[-1] if mine else None


async def feedback_by_team(
    services: Services, token: str, stage_id: uuid.UUID, version: int, teams: list[uuid.UUID]
) -> dict[uuid.UUID, Feedback]:
    """Each team's feedback on the version, asked at once (scoring reads it per team)."""
    found = await asyncio.gather(*(_feedback_of(services, token, stage_id, version, t) for t in teams))
    return {team: f for team, f in zip(teams, found, strict=True) if f is not None}


@router.get("/console/stages/{stage_id}/results/{version}", response_class=HTMLResponse)
async def decision_preview(
    stage_id: uuid.UUID,
    version: int,
    page: PageDep,
    written: uuid.UUID | None = None,
    unchanged: uuid.UUID | None = None,
) -> HTMLResponse:
    token = operator(page)
    services = page.services
    stage = await views.stage(services, stage_id)
    result, criteria, objections = await asyncio.gather(
        services.call("GET", "scoring", f"/v1/stages/{stage_id}/results/{version}", token=token),
        services.call("GET", "scoring", f"/v1/stages/{stage_id}/criteria", token=token),
        _open_objections(services, token, stage_id),
    )
    shown = preview(result, criteria, [uuid.UUID(o["team_id"]) for o in objections])
    teams = [line.team_id for line in shown.teams]
    feedback = await feedback_by_team(services, token, stage_id, version, teams)
    return page.render(
        "console_preview.html",
        stage=stage,
        preview=shown,
        feedback=feedback,
        written=written,
        unchanged=unchanged,
    )


def plain_text(text: str) -> str:
    """A textarea's text as written: browsers send its line breaks as CRLF, and the same text posted
    again must read as the same text (scoring adds no revision for it)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@router.post("/console/stages/{stage_id}/results/{version}/feedback", dependencies=[CsrfChecked])
async def write_feedback(
    stage_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    page: PageDep,
    team_id: Annotated[uuid.UUID, Form()],
    # Twice the limit at the form: a browser counts a line break as one character and sends two.
    text: Annotated[str, Form(min_length=1, max_length=2 * FEEDBACK_MAX_CHARS)],
) -> RedirectResponse:
    """Scoring keeps every revision and decides who may write (``team-not-in-result``...); the same
    text again adds nothing there (200 instead of 201), and the page says so."""
    token = operator(page)
    written = plain_text(text)
    if len(written) > FEEDBACK_MAX_CHARS:
        raise ServiceProblem(422, "validation-failed", f"text: at most {FEEDBACK_MAX_CHARS} characters")
    status, _ = await page.services.call_with_status(
        "POST",
        "scoring",
        f"/v1/stages/{stage_id}/results/{version}/feedback",
        token=token,
        json={"team_id": str(team_id), "text": written},
    )
    said = "written" if status == 201 else "unchanged"
    return RedirectResponse(
        f"/console/stages/{stage_id}/results/{version}?{said}={team_id}#feedback-{team_id}", status_code=303
    )


# -- objection review queue -----------------------------------------------------------------------


class Objection(_Read):
    id: uuid.UUID
    team_id: uuid.UUID
    status: str
    grounds: str
    statement: str
    filed_at: datetime
    window: views.Window


@router.get("/console/stages/{stage_id}/objections", response_class=HTMLResponse)
async def objection_queue(stage_id: uuid.UUID, page: PageDep, done: str | None = None) -> HTMLResponse:
    token = operator(page)
    services = page.services
    stage = await views.stage(services, stage_id)
    listed = await _open_objections(services, token, stage_id)
    full = await asyncio.gather(
        *(services.call("GET", "grievance", f"/v1/objections/{o['id']}", token=token) for o in listed)
    )
    objections = sorted((Objection.model_validate(o) for o in full), key=lambda o: o.filed_at)
    names = await _team_names(services, token, stage.programme_id)
    return page.render(
        "console_objections.html",
        stage=stage,
        objections=objections,
        names=names,
        concerns=CONCERNS,
        done=done if done in ("review", "accepted", "rejected") else None,
    )


async def _team_names(services: Services, token: str, programme_id: uuid.UUID) -> dict[uuid.UUID, str]:
    teams = await services.call(
        "GET", "registry", "/v1/teams", token=token, params={"programme_id": str(programme_id), "limit": 100}
    )
    return {uuid.UUID(t["id"]): t["name"] for t in teams["items"]}


@router.post("/console/stages/{stage_id}/objections/{objection_id}/review", dependencies=[CsrfChecked])
async def start_review(stage_id: uuid.UUID, objection_id: uuid.UUID, page: PageDep) -> RedirectResponse:
    token = operator(page)
    await page.services.call(
        "POST", "grievance", f"/v1/objections/{objection_id}/review", token=token, json={}
    )
    return RedirectResponse(f"/console/stages/{stage_id}/objections?done=review", status_code=303)


@router.post("/console/stages/{stage_id}/objections/{objection_id}/decision", dependencies=[CsrfChecked])
async def decide(
    stage_id: uuid.UUID,
    objection_id: uuid.UUID,
    page: PageDep,
    outcome: Annotated[str, Form(pattern="^(accepted|rejected)$")],
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
    concerns: Annotated[list[str] | None, Form()] = None,
) -> RedirectResponse:
    """Grievance checks the reason and the concerns (and emits the re-evaluation on acceptance)."""
    token = operator(page)
    chosen = [c for c in concerns or [] if c in CONCERNS]
    body: dict[str, Any] = {"outcome": outcome, "reason": reason}
    if chosen:
        body["concerns"] = chosen
    await page.services.call(
        "POST", "grievance", f"/v1/objections/{objection_id}/decision", token=token, json=body
    )
    return RedirectResponse(f"/console/stages/{stage_id}/objections?done={outcome}", status_code=303)


# -- additional selection ---------------------------------------------------------------------------


class Application(_Read):
    team_id: uuid.UUID
    basis: str
    applied_at: datetime
    selected: bool


class Eligible(_Read):
    team_id: uuid.UUID
    basis: str


class Call(_Read):
    id: uuid.UUID
    stage_id: uuid.UUID
    vacancies: int
    status: str
    opened_at: datetime
    closed_at: datetime | None = None
    eligible: list[Eligible]
    applications: list[Application]


@router.get("/console/stages/{stage_id}/selection", response_class=HTMLResponse)
async def selection(stage_id: uuid.UUID, page: PageDep, done: str | None = None) -> HTMLResponse:
    token = operator(page)
    services = page.services
    stage = await views.stage(services, stage_id)
    found = await services.call(
        "GET", "registry", f"/v1/programmes/{stage.programme_id}/selection-calls", token=token
    )
    calls = [c for c in (Call.model_validate(c) for c in found) if c.stage_id == stage_id]
    names = await _team_names(services, token, stage.programme_id)
    return page.render(
        "console_selection.html",
        stage=stage,
        calls=calls,
        names=names,
        done=done if done in ("applied", "selected") else None,
    )


@router.post("/console/stages/{stage_id}/selection/{call_id}/applications", dependencies=[CsrfChecked])
async def apply_for(
    stage_id: uuid.UUID, call_id: uuid.UUID, page: PageDep, team_id: Annotated[uuid.UUID, Form()]
) -> RedirectResponse:
    """An operator applies on a team's behalf (a team that applied in writing); registry decides
    whether the team may (``selection-ineligible``)."""
    token = operator(page)
    await page.services.call(
        "POST",
        "registry",
        f"/v1/selection-calls/{call_id}/applications",
        token=token,
        json={"team_id": str(team_id)},
    )
    return RedirectResponse(f"/console/stages/{stage_id}/selection?done=applied", status_code=303)


@router.post("/console/stages/{stage_id}/selection/{call_id}/selection", dependencies=[CsrfChecked])
async def select(
    stage_id: uuid.UUID,
    call_id: uuid.UUID,
    page: PageDep,
    team_id: Annotated[uuid.UUID, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
) -> RedirectResponse:
    token = operator(page)
    await page.services.call(
        "POST",
        "registry",
        f"/v1/selection-calls/{call_id}/selection",
        token=token,
        json={"team_id": str(team_id), "reason": reason},
    )
    return RedirectResponse(f"/console/stages/{stage_id}/selection?done=selected", status_code=303)
