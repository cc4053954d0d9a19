"""What the pages read from the services, typed (only the fields the pages show; the rest is ignored)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from fmc_web.clients import ServiceProblem, Services

SEOUL = ZoneInfo("Asia/Seoul")


def seoul(when: datetime | str) -> str:
    """A time as people in Korea read it, with its zone: ``2026-01-15 18:00 KST``."""
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    return moment.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M KST")


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Programme(_Read):
    id: uuid.UUID
    name: str


class Stage(_Read):
    id: uuid.UUID
    programme_id: uuid.UUID
    number: int
    name: str
    status: str
    notification_at: datetime
    objection_days: int
    objection_deadline: str

    @property
    def deadline_seoul(self) -> str:
        return seoul(self.objection_deadline)

    @property
    def notification_seoul(self) -> str:
        return seoul(self.notification_at)


class PublicTeam(_Read):
    team_name: str
    outcome: str
    reason_category: str | None = None


class PublicResult(_Read):
    """Scoring's public view: names, advanced/eliminated and the reason category; nothing numeric."""

    stage_id: uuid.UUID
    teams: list[PublicTeam]
    final: bool
    correction: str | None = None


class Revealed(_Read):
    team_name: str


class Vote(_Read):
    battle_id: uuid.UUID
    choice: str
    counted: bool
    discard_reason: str | None = None
    discard_term_kind: str | None = None
    a: Revealed
    b: Revealed


class Battle(_Read):
    battle_id: uuid.UUID
    prompt: str
    a: str
    b: str


class ResultTeam(_Read):
    team_id: uuid.UUID
    team_name: str | None = None
    outcome: str | None = None
    reason: str | None = None


class ResultVersion(_Read):
    version: int
    status: str
    blocking: list[str]
    teams: list[ResultTeam]


def own_token(services: Services) -> str:
    """The web tier's service token for the registry; without a service key the public pages cannot
    read the schedule (a configuration fault, not the person's: never a sign-out)."""
    token = services.own_token("registry")
    if token is None:
        raise ServiceProblem(
            503, "service-unavailable", "the web tier has no service key (FMC_AUTH_SERVICE_KEY)"
        )
    return token


async def programmes(services: Services) -> list[tuple[Programme, list[Stage]]]:
    """Every programme with its stages: the schedule anyone may know, read with the web's own token."""
    found = await services.call(
        "GET", "registry", "/v1/programmes", token=own_token(services), params={"limit": 100}
    )
    listed = []
    for item in found["items"]:
        programme = Programme.model_validate(item)
        stages = await services.call(
            "GET", "registry", f"/v1/programmes/{programme.id}/stages", token=own_token(services)
        )
        listed.append((programme, [Stage.model_validate(s) for s in stages]))
    return listed


async def stage(services: Services, stage_id: uuid.UUID) -> Stage:
    found = await services.call("GET", "registry", f"/v1/stages/{stage_id}", token=own_token(services))
    return Stage.model_validate(found)


class Window(_Read):
    opens_at: datetime
    deadline: datetime
    closes_at: datetime
    objection_days: int
    state: str

    @property
    def deadline_seoul(self) -> str:
        return seoul(self.deadline)


class Notification(_Read):
    id: uuid.UUID
    stage_id: uuid.UUID
    decision: dict[str, str]
    outcome: str | None = None
    reason_code: str | None = None
    window: Window
    current: bool = True


class Objection(_Read):
    id: uuid.UUID
    stage_id: uuid.UUID
    status: str
    filed_at: datetime


class Submission(_Read):
    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    version: int
    registered_at: datetime
    frozen_at: datetime | None = None


def remaining(now: datetime, closes_at: datetime) -> tuple[int, int, int] | None:
    """Days, hours and minutes until ``closes_at``; None once it has passed."""
    left = int((closes_at - now).total_seconds())
    if left <= 0:
        return None
    return left // 86400, left % 86400 // 3600, left % 3600 // 60


class Amendment(_Read):
    technical_originality: float
    technological_capability: float
    readiness: float
    reason: str
    amended_at: datetime


class Score(_Read):
    """An evaluator's own rubric score (scoring shows an evaluator only the scores it gave)."""

    id: uuid.UUID
    team_id: uuid.UUID
    technical_originality: float
    technological_capability: float
    readiness: float
    comment: str
    submitted_at: datetime
    amendments: list[Amendment] = []
    withdrawn_at: datetime | None = None

    @property
    def current(self) -> Score | Amendment:
        return self.amendments[-1] if self.amendments else self


class Panel(_Read):
    deadline_seoul: str
    closed: bool


# -- expert evaluation: sampled responses, conflicts of interest (issue 22) ---------------------------

PANEL_TEXT_LIMIT = 20_000
"""Scoring cuts sampled texts (PANEL_SAMPLE_CHARS); the page cuts again, whatever scoring sends."""


class SampledItem(_Read):
    """One benchmark item as a model answered it: untrusted text, escaped by the templates."""

    position: int
    suite_title: str
    language: str
    prompt: str
    prompt_truncated: bool = False
    response: str | None = None
    response_truncated: bool = False

    @field_validator("prompt", "response")
    @classmethod
    def _cut(cls, text: str | None) -> str | None:
        return None if text is None else text[:PANEL_TEXT_LIMIT]


class Sample(_Read):
    items: list[SampledItem]


@dataclass(frozen=True)
class PanelModel:
    """One blind model on the evaluator's page: its score (if any), its sample, or its conflict."""

    number: int
    score: Score | None
    sample: Sample | None
    conflict: str | None  # "declared" or "affiliation": not the evaluator's to score

    @property
    def to_score(self) -> bool:
        return self.conflict is None

    @property
    def scored(self) -> bool:
        return self.conflict is None and self.score is not None


def panel_progress(models: list[PanelModel]) -> tuple[int, int]:
    """(scored, to score): a model in conflict is not the evaluator's to score, nor counted as scored."""
    mine = [m for m in models if m.to_score]
    return sum(1 for m in mine if m.scored), len(mine)


class Run(_Read):
    team_id: uuid.UUID
    status: str
    failure_code: str | None = None


class Check(_Read):
    stage_id: uuid.UUID
    team_id: uuid.UUID
    status: str
    verdict: str
    summary: str
    created_at: datetime


@dataclass(frozen=True)
class TeamBoard:
    """One team's line on the operator's stage board."""

    name: str
    runs: int
    done: int
    failed: int
    verdict: str | None
    check_summary: str | None


def board(names: dict[uuid.UUID, str], runs: list[Run], checks: list[Check]) -> list[TeamBoard]:
    """Runs (done: completed or graded) and the latest originality check, per team, by name."""
    latest: dict[uuid.UUID, Check] = {}
    for check in sorted(checks, key=lambda c: c.created_at):
        latest[check.team_id] = check
    teams = {r.team_id for r in runs} | set(latest)
    lines = []
    for team in teams:
        mine = [r for r in runs if r.team_id == team]
        found = latest.get(team)
        lines.append(
            TeamBoard(
                name=names.get(team, str(team)),
                runs=len(mine),
                done=sum(1 for r in mine if r.status in ("completed", "graded")),
                failed=sum(1 for r in mine if r.status == "failed"),
                verdict=found.verdict if found else None,
                check_summary=found.summary if found else None,
            )
        )
    return sorted(lines, key=lambda line: line.name)
