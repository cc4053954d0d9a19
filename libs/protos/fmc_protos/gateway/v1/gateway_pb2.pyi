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
