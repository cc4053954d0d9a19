"""What the team portal reads, typed (only the fields it shows), and how it reads it: the team's runs
of the current stage from the gateway, its own published result and feedback from scoring, its
notifications and objections from grievance. Every call carries the team member's own token, so
each service decides what the team may see; the portal adds no reach of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from fmc_web import views
from fmc_web.clients import ServiceProblem, Services

PAGE = 200  # the services' largest page (fmc_common.pagination.MAX_LIMIT)
# A gateway run still moving: the page polls while one is.
RUNNING = frozenset({"pending", "running", "waiting"})


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GatewayRun(_Read):
    """One of the team's inference runs as the gateway tells the team: counts and status only."""

    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    status: str
    failure_code: str | None = None
    total: int
    answered: int
    errored: int
    suite_id: str
    suite_version: str
    requested_at: datetime


@dataclass(frozen=True)
class RunLine:
    """A run as the page shows it: which suite, items done of planned, failed items, status."""

    id: uuid.UUID
    suite: str
    status: str
    done: int
    total: int
    errored: int
    failure_code: str | None


def run_lines(runs: list[GatewayRun], suites: dict[str, str]) -> list[RunLine]:
    """The runs by suite name (a pass@k sample keeps its ``+sample.n`` mark), oldest request first.

    ``done`` counts every stored answer, errors included (the gateway's ``answered``), so a run that
    completes shows all of its items done, some of them failed."""
    lines = [
        RunLine(
            id=run.id,
            suite=_suite_label(run, suites),
            status=run.status,
            done=run.answered,
            total=run.total,
            errored=run.errored,
            failure_code=run.failure_code,
        )
        for run in sorted(runs, key=lambda r: (r.requested_at, str(r.id)))
    ]
    return lines


def moving(stage: views.Stage | None, runs: list[RunLine], published: bool) -> bool:
    """Whether the page should keep asking: a run of the current stage still moving, or, until the
    stage's result is published, anything at all (runs appear when the evaluation starts, and a
    failed run can be done again)."""
    if stage is None:
        return False
    return not published or any(r.status in RUNNING for r in runs)


def _suite_label(run: GatewayRun, suites: dict[str, str]) -> str:
    name = suites.get(run.suite_id, run.suite_id)
    _, plus, sample = run.suite_version.partition("+")
    return f"{name} ({sample})" if plus else name


class SuiteFigure(_Read):
    suite_key: str
    suite_version: str
    accuracy: float
    ci_low: float
    ci_high: float
    items: int
    errored: int


class OwnResult(_Read):
    """Scoring's view for the team itself: its own figures in the published version, no position."""

    stage_id: uuid.UUID
    version: int
    outcome: str
    reason: str | None = None
    composite: float | None = None
    benchmark: float | None = None
    expert: float | None = None
    user: float | None = None
    suites: list[SuiteFigure] = []
    finalized: bool = False


class Feedback(_Read):
    version: int
    revision: int
    text: str
    written_at: datetime


@dataclass(frozen=True)
class StageOutcome:
    stage: views.Stage
    result: OwnResult
    feedback: list[Feedback]


class Attachment(_Read):
    name: str
    media_type: str
    size: int
    sha256: str


class Resolution(_Read):
    outcome: str
    reason: str
    decided_at: datetime


class ObjectionDetail(_Read):
    id: uuid.UUID
    decision: dict[str, str]
    stage_id: uuid.UUID
    status: str
    current_version: int
    grounds: str
    statement: str
    attachments: list[Attachment]
    filed_at: datetime
    updated_at: datetime
    resolution: Resolution | None = None
    window: views.Window

    @property
    def open(self) -> bool:
        """Still the team's to change: neither decided nor withdrawn."""
        return self.status in ("received", "under-review")


class ObjectionVersion(_Read):
    version: int
    grounds: str
    statement: str
    attachments: list[Attachment]
    created_at: datetime


class HistoryEntry(_Read):
    seq: int
    at: datetime
    action: str
    reason: str | None = None


class FullNotification(views.Notification):
    notified_at: datetime
    round: int = 1
    superseded_by_notification_id: uuid.UUID | None = None


def current_stage(stages: list[views.Stage], submissions: list[views.Submission]) -> views.Stage | None:
    """The stage whose runs the portal follows: the last (in schedule order) in which the team has a
    frozen submission, i.e. the latest stage evaluating, or evaluated, the team's model."""
    frozen = {s.stage_id for s in submissions if s.frozen_at is not None}
    found = [s for s in stages if s.id in frozen]
    return found[-1] if found else None


async def runs(services: Services, token: str, stage: views.Stage) -> list[RunLine]:
    """The team's own runs of the stage (the gateway lists a team only its own)."""
    found: list[GatewayRun] = []
    cursor: str | None = None
    while True:
        params: dict[str, object] = {"stage_id": str(stage.id), "limit": PAGE}
        if cursor:
            params["cursor"] = cursor
        page = await services.call("GET", "inference-gateway", "/v1/runs", token=token, params=params)
        found += [GatewayRun.model_validate(r) for r in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return run_lines(found, await suite_names(services, token, stage.id))


async def suite_names(services: Services, token: str, stage_id: uuid.UUID) -> dict[str, str]:
    """Suite id to ``key version``, from the stage's criteria (which every team agreed to)."""
    try:
        criteria = await services.call("GET", "scoring", f"/v1/stages/{stage_id}/criteria", token=token)
    except ServiceProblem as problem:
        if problem.status == 404:
            return {}
        raise
    return {str(s["suite_id"]): f"{s['suite_key']} {s['suite_version']}" for s in criteria["suites"]}


async def outcome(
    services: Services, token: str, team_id: uuid.UUID, stage: views.Stage
) -> StageOutcome | None:
    """The team's own published result of the stage with the feedback written to it; None before
    publication (scoring answers 404 until a version is published)."""
    base = f"/v1/stages/{stage.id}/teams/{team_id}"
    try:
        result = OwnResult.model_validate(
            await services.call("GET", "scoring", f"{base}/result", token=token)
        )
        written = await services.call("GET", "scoring", f"{base}/feedback", token=token)
    except ServiceProblem as problem:
        if problem.status == 404:
            return None
        raise
    return StageOutcome(stage, result, [Feedback.model_validate(f) for f in written])


async def published(services: Services, token: str, team_id: uuid.UUID, stage: views.Stage) -> bool:
    """Whether the team has a published result of the stage (scoring answers 404 until then)."""
    try:
        await services.call("GET", "scoring", f"/v1/stages/{stage.id}/teams/{team_id}/result", token=token)
    except ServiceProblem as problem:
        if problem.status == 404:
            return False
        raise
    return True


async def notifications(services: Services, token: str) -> list[FullNotification]:
    """Every notification of the team (superseded ones too), newest first."""
    found: list[FullNotification] = []
    cursor: str | None = None
    while True:
        params: dict[str, object] = {"limit": PAGE}
        if cursor:
            params["cursor"] = cursor
        page = await services.call("GET", "grievance", "/v1/notifications", token=token, params=params)
        found += [FullNotification.model_validate(n) for n in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return sorted(found, key=lambda n: (n.notified_at, n.round), reverse=True)
