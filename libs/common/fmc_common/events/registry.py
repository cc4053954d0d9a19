"""Events emitted by the registry."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.events.base import Event
from fmc_common.events.topics import Topic


class TeamRegistered(Event):
    """A team (a consortium led by an organisation) was registered in the programme."""

    event_type = "fmc.registry.team-registered.v1"
    topic = Topic.REGISTRY

    team_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    lead_organisation: str = Field(min_length=1, max_length=200)
    registered_at: datetime

    def partition_key(self) -> str:
        return str(self.team_id)

    def subject(self) -> str | None:
        return f"teams/{self.team_id}"


class TeamStatusChanged(Event):
    """A team moved in its lifecycle (applicant, selected, in-stage, advanced, eliminated, withdrawn)."""

    event_type = "fmc.registry.team-status-changed.v1"
    topic = Topic.REGISTRY

    team_id: uuid.UUID
    programme_id: uuid.UUID | None = None
    from_status: str = Field(max_length=32)
    to_status: str = Field(max_length=32)
    stage_number: int | None = Field(default=None, ge=1)
    reason_code: str | None = Field(
        default=None, max_length=64, description="For an elimination: benchmark-threshold, originality, rank"
    )
    changed_at: datetime

    def partition_key(self) -> str:
        return str(self.team_id)

    def subject(self) -> str | None:
        return f"teams/{self.team_id}"


class StageOpened(Event):
    """A stage opened for submissions; the teams listed take part in it."""

    event_type = "fmc.registry.stage-opened.v1"
    topic = Topic.REGISTRY

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    number: int = Field(ge=1)
    planned_advancing: int = Field(ge=0)
    team_ids: list[uuid.UUID]
    opened_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class StageStatusChanged(Event):
    """A stage moved: draft, open-for-submissions, evaluating, results-published, final, reopened."""

    event_type = "fmc.registry.stage-status-changed.v1"
    topic = Topic.REGISTRY

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    from_status: str = Field(max_length=32)
    to_status: str = Field(max_length=32)
    changed_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class TritonEndpoint(BaseModel):
    """Where a submitted model is served."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str = Field(max_length=500)
    model_name: str = Field(max_length=200)
    model_version: str = Field(max_length=50)
    protocol: str = Field(description="http or grpc", max_length=8)
    gpu_pool: str = Field(description="H100 or B200", max_length=8)
    convention: str = Field(
        default="fmc-text",
        max_length=32,
        description="fmc-text, triton-vllm, tensorrt-llm-ensemble, triton-generate or openai-chat",
    )
    chat_template: str | None = Field(
        default=None,
        max_length=64,
        description="the chat template the gateway renders chat items with (raw-text conventions)",
    )


class SubmissionRegistered(Event):
    """A team submitted a model (a new version) for a stage. Keyed by stage: ordered before its freeze."""

    event_type = "fmc.registry.submission-registered.v1"
    topic = Topic.REGISTRY

    submission_id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    version: int = Field(ge=1)
    endpoint: TritonEndpoint
    manifest_digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    registered_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"submissions/{self.submission_id}"


class FrozenSubmission(BaseModel):
    """One evaluation input: the latest submission of a team when the evaluation started."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    submission_id: uuid.UUID
    team_id: uuid.UUID
    version: int = Field(ge=1)
    endpoint: TritonEndpoint
    manifest_digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class EvaluationStarted(Event):
    """The evaluation of a stage started: submissions are frozen; these are its only inputs."""

    event_type = "fmc.registry.evaluation-started.v1"
    topic = Topic.REGISTRY

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    stage_number: int = Field(ge=1)
    started_at: datetime
    submissions: list[FrozenSubmission]
    objection_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Days each team has to object once notified of the stage's result (the stage's own)",
    )
    planned_advancing: int | None = Field(
        default=None,
        ge=0,
        description="How many teams the stage plans to advance; scoring's criteria must say the same",
    )

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class AdditionalSelectionOpened(Event):
    """Fewer teams advanced than planned: a call for the vacancies opened, with who may apply."""

    event_type = "fmc.registry.additional-selection-opened.v1"
    topic = Topic.REGISTRY

    call_id: uuid.UUID
    programme_id: uuid.UUID
    stage_id: uuid.UUID
    vacancies: int = Field(ge=1)
    eligible_team_ids: list[uuid.UUID] = Field(
        description=(
            "Eliminated in the stage, and preliminary-review consortia; the programme's other "
            "applicants and new applicants may also apply"
        )
    )
    opened_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"selection-calls/{self.call_id}"


class AdditionalTeamSelected(Event):
    """The operator selected a team in an additional selection; it joins the next stage."""

    event_type = "fmc.registry.additional-team-selected.v1"
    topic = Topic.REGISTRY

    call_id: uuid.UUID
    programme_id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    selected_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"selection-calls/{self.call_id}"
