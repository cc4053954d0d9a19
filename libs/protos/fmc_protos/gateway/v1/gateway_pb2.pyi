from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetTritonStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TritonModel(_message.Message):
    __slots__ = ("name", "version", "state")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    state: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class TritonStatus(_message.Message):
    __slots__ = ("url", "live", "ready", "server_version", "extensions", "models")
    URL_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    url: str
    live: bool
    ready: bool
    server_version: str
    extensions: _containers.RepeatedScalarFieldContainer[str]
    models: _containers.RepeatedCompositeFieldContainer[TritonModel]
    def __init__(self, url: _Optional[str] = ..., live: _Optional[bool] = ..., ready: _Optional[bool] = ..., server_version: _Optional[str] = ..., extensions: _Optional[_Iterable[str]] = ..., models: _Optional[_Iterable[_Union[TritonModel, _Mapping]]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("run_id", "stage_id", "submission_id", "team_id", "status", "status_reason", "failure_code", "total", "answered", "errored", "gpu_pool", "hardware_class", "server_version", "model_version", "responses_sha256", "stuck_since", "suite_id", "suite_version", "suite_hash", "efficiency")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_CODE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ERRORED_FIELD_NUMBER: _ClassVar[int]
    GPU_POOL_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_CLASS_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_SHA256_FIELD_NUMBER: _ClassVar[int]
    STUCK_SINCE_FIELD_NUMBER: _ClassVar[int]
    SUITE_ID_FIELD_NUMBER: _ClassVar[int]
    SUITE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SUITE_HASH_FIELD_NUMBER: _ClassVar[int]
    EFFICIENCY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    stage_id: str
    submission_id: str
    team_id: str
    status: str
    status_reason: str
    failure_code: str
    total: int
    answered: int
    errored: int
    gpu_pool: str
    hardware_class: str
    server_version: str
    model_version: str
    responses_sha256: str
    stuck_since: str
    suite_id: str
    suite_version: str
    suite_hash: str
    efficiency: RunEfficiency
    def __init__(self, run_id: _Optional[str] = ..., stage_id: _Optional[str] = ..., submission_id: _Optional[str] = ..., team_id: _Optional[str] = ..., status: _Optional[str] = ..., status_reason: _Optional[str] = ..., failure_code: _Optional[str] = ..., total: _Optional[int] = ..., answered: _Optional[int] = ..., errored: _Optional[int] = ..., gpu_pool: _Optional[str] = ..., hardware_class: _Optional[str] = ..., server_version: _Optional[str] = ..., model_version: _Optional[str] = ..., responses_sha256: _Optional[str] = ..., stuck_since: _Optional[str] = ..., suite_id: _Optional[str] = ..., suite_version: _Optional[str] = ..., suite_hash: _Optional[str] = ..., efficiency: _Optional[_Union[RunEfficiency, _Mapping]] = ...) -> None: ...

class RunEfficiency(_message.Message):
    __slots__ = ("items_timed", "items_streamed", "ttft_ms_p50", "ttft_ms_p95", "latency_ms_p50", "latency_ms_p95", "tokens_per_second_median")
    ITEMS_TIMED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_STREAMED_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_P50_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_P95_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_P50_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_P95_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    items_timed: int
    items_streamed: int
    ttft_ms_p50: float
    ttft_ms_p95: float
    latency_ms_p50: float
    latency_ms_p95: float
    tokens_per_second_median: float
    def __init__(self, items_timed: _Optional[int] = ..., items_streamed: _Optional[int] = ..., ttft_ms_p50: _Optional[float] = ..., ttft_ms_p95: _Optional[float] = ..., latency_ms_p50: _Optional[float] = ..., latency_ms_p95: _Optional[float] = ..., tokens_per_second_median: _Optional[float] = ...) -> None: ...

class StreamResponsesRequest(_message.Message):
    __slots__ = ("run_id", "start_seq")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    START_SEQ_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    start_seq: int
    def __init__(self, run_id: _Optional[str] = ..., start_seq: _Optional[int] = ...) -> None: ...

class ItemResponse(_message.Message):
    __slots__ = ("item_id", "seq", "status", "text", "prompt_tokens", "completion_tokens", "error", "latency_ms", "attempts", "server_version", "model_version", "started_at", "finished_at", "ttft_ms", "tokens_per_second")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    seq: int
    status: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    error: str
    latency_ms: float
    attempts: int
    server_version: str
    model_version: str
    started_at: str
    finished_at: str
    ttft_ms: float
    tokens_per_second: float
    def __init__(self, item_id: _Optional[str] = ..., seq: _Optional[int] = ..., status: _Optional[str] = ..., text: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., error: _Optional[str] = ..., latency_ms: _Optional[float] = ..., attempts: _Optional[int] = ..., server_version: _Optional[str] = ..., model_version: _Optional[str] = ..., started_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., ttft_ms: _Optional[float] = ..., tokens_per_second: _Optional[float] = ...) -> None: ...
