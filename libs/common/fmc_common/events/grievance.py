"""Events emitted by grievance: notifications, objections, decisions, re-evaluations, closed windows.

All on ``Topic.GRIEVANCE`` (internal, never partner-facing) keyed by stage id, so that everything
about one stage stays in order (an accepted objection's ``ReEvaluationRequested`` always precedes the
stage's ``GrievanceWindowClosed``); ``AuditCheckpointed`` is keyed by its trail, so checkpoints stay
in order among themselves. They carry facts and references, never a score or a rank.

A *decision* is what a team may object to: a stage's published result (``stage-result``, its id
is the stage id) or a selection decision of the registry (``selection-decision``, its id is the
selection call id). Windows and objections work the same way for both.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from fmc_common.events.base import Event
from fmc_common.events.topics import Topic

SEOUL_TIME_ZONE = "Asia/Seoul"


class DecisionKind(StrEnum):
    STAGE_RESULT = "stage-result"
    SELECTION_DECISION = "selection-decision"


class ObjectionGrounds(StrEnum):
    PROCESS_DEFECT = "process-defect"
    SCORING_ERROR = "scoring-error"
    ORIGINALITY_JUDGEMENT = "originality-judgement"
    OTHER = "other"


class ObjectionOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ReEvaluationConcern(StrEnum):
    """What a re-evaluation recomputes."""

    BENCHMARK_SUITE = "benchmark-suite"
    EXPERT_PANEL = "expert-panel"
    ORIGINALITY = "originality"
    PROCESS = "process"


class _StageEvent(Event):
    topic = Topic.GRIEVANCE

    stage_id: uuid.UUID
    decision_kind: DecisionKind = DecisionKind.STAGE_RESULT
    decision_id: uuid.UUID = Field(description="The stage id for a stage result; the call id for a selection")

    def partition_key(self) -> str:
        return str(self.stage_id)


class TeamNotified(_StageEvent):
    """A team was notified of a decision; its objection window opened.

    A team is notified again (a new notification, superseding the earlier one) when a re-evaluation
    changes its outcome or reason, and when a final stage is reopened.

    The window is open from ``notified_at`` until ``window_closes_at`` (exclusive), that is until
    the end of ``last_day`` (``deadline``, stated in Asia/Seoul).
    """

    event_type = "fmc.grievance.team-notified.v1"

    notification_id: uuid.UUID
    team_id: uuid.UUID
    notified_at: datetime
    objection_days: int = Field(ge=1, le=60)
    deadline: datetime = Field(description="Last instant of the window, with the Asia/Seoul offset")
    window_closes_at: datetime = Field(description="First instant after the window (exclusive end)")
    time_zone: str = Field(default=SEOUL_TIME_ZONE, max_length=64)
    round: int | None = Field(
        default=None, ge=1, description="The decision's grievance round this window belongs to (1 first)"
    )
    result_version: int | None = Field(
        default=None, ge=1, description="For a stage result: the result version the team was told of"
    )
    supersedes_notification_id: uuid.UUID | None = Field(
        default=None,
        description="The team's earlier notification of the decision that this one replaces (a reversal)",
    )
    reopening_id: uuid.UUID | None = Field(
        default=None, description="Set when the window was opened by the reopening of a final stage"
    )

    def subject(self) -> str | None:
        return f"notifications/{self.notification_id}"


class ObjectionFiled(_StageEvent):
    """A team filed an objection against a decision (its statement and attachments stay in grievance)."""

    event_type = "fmc.grievance.objection-filed.v1"

    objection_id: uuid.UUID
    team_id: uuid.UUID
    grounds: ObjectionGrounds
    attachment_count: int = Field(ge=0)
    filed_at: datetime

    def subject(self) -> str | None:
        return f"objections/{self.objection_id}"


class ObjectionDecided(_StageEvent):
    """An objection reached its end: accepted or rejected by an operator (with the reason), or withdrawn."""

    event_type = "fmc.grievance.objection-decided.v1"

    objection_id: uuid.UUID
    team_id: uuid.UUID
    grounds: ObjectionGrounds
    outcome: ObjectionOutcome
    reason: str = Field(min_length=1, max_length=4000)
    decided_at: datetime

    def subject(self) -> str | None:
        return f"objections/{self.objection_id}"


class ReEvaluationRequested(_StageEvent):
    """An accepted objection asks scoring to recompute what it concerns, as a new result version."""

    event_type = "fmc.grievance.re-evaluation-requested.v1"

    request_id: uuid.UUID
    objection_id: uuid.UUID
    team_id: uuid.UUID
    concerns: list[ReEvaluationConcern] = Field(min_length=1, max_length=4)
    reason: str = Field(min_length=1, max_length=4000)
    requested_at: datetime

    def subject(self) -> str | None:
        return f"re-evaluations/{self.request_id}"


class GrievanceWindowClosed(_StageEvent):
    """Every team's window for the decision has closed and every objection is decided.

    For a stage result, scoring finalises the stage on this event (after completing the
    re-evaluations listed here). A decision may close more than once: a reversal notified after
    the closing, or the reopening of a final stage, opens a new round, which closes again with a
    new event; ``re_evaluation_request_ids`` then lists only the requests of that round.
    """

    event_type = "fmc.grievance.window-closed.v1"

    windows_closed: int = Field(ge=0)
    objections_total: int = Field(ge=0)
    objections_accepted: int = Field(ge=0)
    re_evaluation_request_ids: list[uuid.UUID] = Field(default_factory=list)
    closed_at: datetime
    round: int | None = Field(
        default=None,
        ge=1,
        description="The round closed (1 first; a reversal or a reopening opens the next one)",
    )

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class AuditCheckpointed(Event):
    """The audit trail's head at a moment, signed, for a copy kept outside grievance's database.

    A keeper (a partner, an object store) checks the signature and keeps the checkpoint; an operator
    later verifies the trail against it (``GET /v1/audit/verification?anchor_seq=&anchor_hash=``),
    which catches a tail rewound or re-chained since. The signature is HMAC-SHA256 under the key
    ``key_id`` names, over the canonical JSON described in ``fmc_common.audit.checkpoint``.
    """

    event_type = "fmc.grievance.audit-checkpointed.v1"
    topic = Topic.GRIEVANCE

    trail: str = Field(min_length=1, max_length=64, description="Which trail: the owning service's name")
    seq: int = Field(ge=1, description="Sequence number of the head entry")
    hash: str = Field(pattern="^[0-9a-f]{64}$", description="Hash of the head entry")
    at: datetime = Field(description="When the head entry was written")
    checkpointed_at: datetime
    algorithm: str = Field(default="hmac-sha256", max_length=32)
    key_id: str = Field(min_length=1, max_length=64, description="Which checkpoint key signed it (rotation)")
    signature: str = Field(pattern="^[0-9a-f]{64}$", description="Lowercase hex")

    def partition_key(self) -> str:
        return f"audit/{self.trail}"

    def subject(self) -> str | None:
        return f"audit/{self.trail}/{self.seq}"
