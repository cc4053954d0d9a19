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

class DecisionRef(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class Attachment(_message.Message):
    __slots__ = ("name", "media_type", "content", "sha256", "size")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    name: str
    media_type: str
    content: bytes
    sha256: str
    size: int
    def __init__(self, name: _Optional[str] = ..., media_type: _Optional[str] = ..., content: _Optional[bytes] = ..., sha256: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ObjectionWindow(_message.Message):
    __slots__ = ("opens_at", "deadline", "closes_at", "last_day", "time_zone", "objection_days", "state")
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    opens_at: str
    deadline: str
    closes_at: str
    last_day: str
    time_zone: str
    objection_days: int
    state: str
    def __init__(self, opens_at: _Optional[str] = ..., deadline: _Optional[str] = ..., closes_at: _Optional[str] = ..., last_day: _Optional[str] = ..., time_zone: _Optional[str] = ..., objection_days: _Optional[int] = ..., state: _Optional[str] = ...) -> None: ...

class FileObjectionRequest(_message.Message):
    __slots__ = ("decision", "grounds", "statement", "attachments", "idempotency_key")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    GROUNDS_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    decision: DecisionRef
    grounds: str
    statement: str
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    idempotency_key: str
    def __init__(self, decision: _Optional[_Union[DecisionRef, _Mapping]] = ..., grounds: _Optional[str] = ..., statement: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GetObjectionRequest(_message.Message):
    __slots__ = ("objection_id",)
    OBJECTION_ID_FIELD_NUMBER: _ClassVar[int]
    objection_id: str
    def __init__(self, objection_id: _Optional[str] = ...) -> None: ...

class Objection(_message.Message):
    __slots__ = ("objection_id", "team_id", "decision", "stage_id", "status", "current_version", "grounds", "statement", "attachments", "filed_at", "updated_at", "window", "resolution_outcome", "resolution_reason")
    OBJECTION_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    GROUNDS_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    FILED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_REASON_FIELD_NUMBER: _ClassVar[int]
    objection_id: str
    team_id: str
    decision: DecisionRef
    stage_id: str
    status: str
    current_version: int
    grounds: str
    statement: str
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    filed_at: str
    updated_at: str
    window: ObjectionWindow
    resolution_outcome: str
    resolution_reason: str
    def __init__(self, objection_id: _Optional[str] = ..., team_id: _Optional[str] = ..., decision: _Optional[_Union[DecisionRef, _Mapping]] = ..., stage_id: _Optional[str] = ..., status: _Optional[str] = ..., current_version: _Optional[int] = ..., grounds: _Optional[str] = ..., statement: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., filed_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., window: _Optional[_Union[ObjectionWindow, _Mapping]] = ..., resolution_outcome: _Optional[str] = ..., resolution_reason: _Optional[str] = ...) -> None: ...
