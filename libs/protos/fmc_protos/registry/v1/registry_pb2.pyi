from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

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
    __slots__ = ("team_id", "name", "lead_organisation", "status", "registered_at", "programme_id", "stage_number", "elimination_reason", "lead_organisation_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEAD_ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ELIMINATION_REASON_FIELD_NUMBER: _ClassVar[int]
    LEAD_ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    lead_organisation: str
    status: str
    registered_at: str
    programme_id: str
    stage_number: int
    elimination_reason: str
    lead_organisation_id: str
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., lead_organisation: _Optional[str] = ..., status: _Optional[str] = ..., registered_at: _Optional[str] = ..., programme_id: _Optional[str] = ..., stage_number: _Optional[int] = ..., elimination_reason: _Optional[str] = ..., lead_organisation_id: _Optional[str] = ...) -> None: ...

class ListTeamsRequest(_message.Message):
    __slots__ = ("programme_id", "status", "page_size", "page_token")
    PROGRAMME_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    programme_id: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, programme_id: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTeamsResponse(_message.Message):
    __slots__ = ("teams", "next_page_token")
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    teams: _containers.RepeatedCompositeFieldContainer[Team]
    next_page_token: str
    def __init__(self, teams: _Optional[_Iterable[_Union[Team, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSubmissionRequest(_message.Message):
    __slots__ = ("submission_id",)
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    submission_id: str
    def __init__(self, submission_id: _Optional[str] = ...) -> None: ...

class TritonEndpoint(_message.Message):
    __slots__ = ("url", "model_name", "model_version", "protocol", "gpu_pool", "convention", "chat_template")
    URL_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    GPU_POOL_FIELD_NUMBER: _ClassVar[int]
    CONVENTION_FIELD_NUMBER: _ClassVar[int]
    CHAT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    url: str
    model_name: str
    model_version: str
    protocol: str
    gpu_pool: str
    convention: str
    chat_template: str
    def __init__(self, url: _Optional[str] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., protocol: _Optional[str] = ..., gpu_pool: _Optional[str] = ..., convention: _Optional[str] = ..., chat_template: _Optional[str] = ...) -> None: ...

class RegisterSubmissionRequest(_message.Message):
    __slots__ = ("stage_id", "team_id", "endpoint", "manifest_json", "model_card_json", "idempotency_key")
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    MODEL_CARD_JSON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    stage_id: str
    team_id: str
    endpoint: TritonEndpoint
    manifest_json: str
    model_card_json: str
    idempotency_key: str
    def __init__(self, stage_id: _Optional[str] = ..., team_id: _Optional[str] = ..., endpoint: _Optional[_Union[TritonEndpoint, _Mapping]] = ..., manifest_json: _Optional[str] = ..., model_card_json: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class Submission(_message.Message):
    __slots__ = ("submission_id", "stage_id", "team_id", "version", "endpoint", "manifest_digest", "manifest_json", "model_card_json", "registered_at", "frozen_at", "weights_location")
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_JSON_FIELD_NUMBER: _ClassVar[int]
    MODEL_CARD_JSON_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    FROZEN_AT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_LOCATION_FIELD_NUMBER: _ClassVar[int]
    submission_id: str
    stage_id: str
    team_id: str
    version: int
    endpoint: TritonEndpoint
    manifest_digest: str
    manifest_json: str
    model_card_json: str
    registered_at: str
    frozen_at: str
    weights_location: str
    def __init__(self, submission_id: _Optional[str] = ..., stage_id: _Optional[str] = ..., team_id: _Optional[str] = ..., version: _Optional[int] = ..., endpoint: _Optional[_Union[TritonEndpoint, _Mapping]] = ..., manifest_digest: _Optional[str] = ..., manifest_json: _Optional[str] = ..., model_card_json: _Optional[str] = ..., registered_at: _Optional[str] = ..., frozen_at: _Optional[str] = ..., weights_location: _Optional[str] = ...) -> None: ...
