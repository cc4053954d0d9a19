"""Every event type the platform knows, by its versioned type name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fmc_common.events.base import Event
from fmc_common.events.grievance import (
    AuditCheckpointed,
    GrievanceWindowClosed,
    ObjectionDecided,
    ObjectionFiled,
    ReEvaluationRequested,
    TeamNotified,
)
from fmc_common.events.inference import (
    InferenceRunCompleted,
    InferenceRunFailed,
    InferenceRunProgressed,
    InferenceRunRequested,
    InferenceRunRequestedV2,
    InferenceRunStuck,
    InferenceRunWaiting,
)
from fmc_common.events.registry import (
    AdditionalSelectionOpened,
    AdditionalTeamSelected,
    EvaluationStarted,
    StageOpened,
    StageStatusChanged,
    SubmissionRegistered,
    TeamRegistered,
    TeamStatusChanged,
)
from fmc_common.events.results import (
    RunGraded,
    StageFinalAnnounced,
    StageReopenedAnnounced,
    StageResultAnnounced,
    StageResultDetailed,
    StageResultProposed,
)
from fmc_common.events.scoring import (
    OriginalityVerdictIssued,
    OriginalityVerdictIssuedV2,
    StageFinalized,
    StageReopened,
    StageResultsPublished,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    InferenceRunRequested,
    InferenceRunRequestedV2,
    InferenceRunProgressed,
    InferenceRunCompleted,
    InferenceRunFailed,
    InferenceRunStuck,
    InferenceRunWaiting,
    TeamRegistered,
    TeamStatusChanged,
    StageOpened,
    StageStatusChanged,
    SubmissionRegistered,
    EvaluationStarted,
    AdditionalSelectionOpened,
    AdditionalTeamSelected,
    StageFinalized,
    StageResultsPublished,
    StageReopened,
    OriginalityVerdictIssued,
    OriginalityVerdictIssuedV2,
    TeamNotified,
    ObjectionFiled,
    ObjectionDecided,
    ReEvaluationRequested,
    GrievanceWindowClosed,
    AuditCheckpointed,
    RunGraded,
    StageResultProposed,
    StageResultDetailed,
    StageResultAnnounced,
    StageFinalAnnounced,
    StageReopenedAnnounced,
)

EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType({cls.event_type: cls for cls in ALL_EVENTS})


def event_class(event_type: str) -> type[Event] | None:
    return EVENT_TYPES.get(event_type)


def json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per event type (exported to docs/events/schemas by the contract tests)."""
    return {cls.event_type: cls.json_schema() for cls in ALL_EVENTS}
