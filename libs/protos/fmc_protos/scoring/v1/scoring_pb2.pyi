from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetParticipantRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class Participant(_message.Message):
    __slots__ = ("team_id", "name", "recorded_at")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    recorded_at: str
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., recorded_at: _Optional[str] = ...) -> None: ...

class GetPublicStageResultRequest(_message.Message):
    __slots__ = ("stage_id",)
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    stage_id: str
    def __init__(self, stage_id: _Optional[str] = ...) -> None: ...

class PublicTeamOutcome(_message.Message):
    __slots__ = ("team_id", "team_name", "outcome", "reason_category")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_NAME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    team_name: str
    outcome: str
    reason_category: str
    def __init__(self, team_id: _Optional[str] = ..., team_name: _Optional[str] = ..., outcome: _Optional[str] = ..., reason_category: _Optional[str] = ...) -> None: ...

class PublicStageResult(_message.Message):
    __slots__ = ("stage_id", "teams", "final")
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    stage_id: str
    teams: _containers.RepeatedCompositeFieldContainer[PublicTeamOutcome]
    final: bool
    def __init__(self, stage_id: _Optional[str] = ..., teams: _Optional[_Iterable[_Union[PublicTeamOutcome, _Mapping]]] = ..., final: _Optional[bool] = ...) -> None: ...

class GetTeamResultRequest(_message.Message):
    __slots__ = ("stage_id", "team_id")
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    stage_id: str
    team_id: str
    def __init__(self, stage_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class SuiteFigure(_message.Message):
    __slots__ = ("suite_key", "suite_version", "run_id", "accuracy", "ci_low", "ci_high", "items")
    SUITE_KEY_FIELD_NUMBER: _ClassVar[int]
    SUITE_VERSION_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    suite_key: str
    suite_version: str
    run_id: str
    accuracy: float
    ci_low: float
    ci_high: float
    items: int
    def __init__(self, suite_key: _Optional[str] = ..., suite_version: _Optional[str] = ..., run_id: _Optional[str] = ..., accuracy: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., items: _Optional[int] = ...) -> None: ...

class TeamResult(_message.Message):
    __slots__ = ("stage_id", "version", "team_id", "outcome", "reason", "composite", "benchmark", "expert", "user", "suites", "finalized")
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COMPOSITE_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    EXPERT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    SUITES_FIELD_NUMBER: _ClassVar[int]
    FINALIZED_FIELD_NUMBER: _ClassVar[int]
    stage_id: str
    version: int
    team_id: str
    outcome: str
    reason: str
    composite: float
    benchmark: float
    expert: float
    user: float
    suites: _containers.RepeatedCompositeFieldContainer[SuiteFigure]
    finalized: bool
    def __init__(self, stage_id: _Optional[str] = ..., version: _Optional[int] = ..., team_id: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., composite: _Optional[float] = ..., benchmark: _Optional[float] = ..., expert: _Optional[float] = ..., user: _Optional[float] = ..., suites: _Optional[_Iterable[_Union[SuiteFigure, _Mapping]]] = ..., finalized: _Optional[bool] = ...) -> None: ...
