from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterTeamRequest(_message.Message):
    __slots__ = ("name", "lead_organisation", "idempotency_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEAD_ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    lead_organisation: str
    idempotency_key: str
    def __init__(self, name: _Optional[str] = ..., lead_organisation: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GetTeamRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class Team(_message.Message):
    __slots__ = ("team_id", "name", "lead_organisation", "status", "registered_at")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEAD_ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    lead_organisation: str
    status: str
    registered_at: str
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., lead_organisation: _Optional[str] = ..., status: _Optional[str] = ..., registered_at: _Optional[str] = ...) -> None: ...
