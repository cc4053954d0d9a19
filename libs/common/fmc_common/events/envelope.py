"""CloudEvents 1.0 envelope (structured JSON mode) with correlation and causation extensions."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import to_json

if TYPE_CHECKING:
    from fmc_common.events.base import Event

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


# CloudEvents 1.0: extension attribute names are 1-20 lower-case letters or digits; values are
# strings, integers or booleans in JSON. A partner's tracing (``traceparent``) must not make an event
# undeliverable; a flood of attributes or an object-valued one is still refused.
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
MAX_EXTENSIONS = 16
MAX_EXTENSION_VALUE = 2048


class Envelope(BaseModel):
    """What travels on every topic. ``data`` is validated against the event model named by ``type``.

    Extension attributes (CloudEvents 1.0, section 3.1.4) are kept as they came, within bounds.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    @model_validator(mode="after")
    def _extensions_as_the_spec_allows(self) -> Envelope:
        extensions = self.model_extra or {}
        if len(extensions) > MAX_EXTENSIONS:
            raise ValueError(f"at most {MAX_EXTENSIONS} extension attributes")
        for name, value in extensions.items():
            if not _EXTENSION_NAME.match(name):
                raise ValueError(f"extension attribute {name!r}: names are 1-20 lower-case letters or digits")
            if isinstance(value, str):
                if len(value) > MAX_EXTENSION_VALUE:
                    raise ValueError(f"extension attribute {name!r} is longer than {MAX_EXTENSION_VALUE}")
            elif not isinstance(value, bool | int):
                raise ValueError(f"extension attribute {name!r} must be a string, an integer or a boolean")
        return self

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=200, description="URI-reference of the emitting service")
    type: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    correlationid: str | None = Field(default=None, max_length=128)
    causationid: str | None = Field(default=None, max_length=128)
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


def new_event_id() -> str:
    return str(uuid.uuid4())


def encode_envelope(
    event: Event,
    *,
    event_id: str,
    source: str,
    time: datetime,
    correlation_id: str | None,
    causation_id: str | None,
    traceparent: str | None = None,
) -> bytes:
    """The structured-mode CloudEvent for an already validated event, as JSON bytes.

    Equivalent to ``Envelope(...).to_bytes()`` (a test checks it) without validating twice.
    """
    head: dict[str, str] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event.event_type,
    }
    subject = event.subject()
    if subject is not None:
        head["subject"] = subject
    head["time"] = time.isoformat().replace("+00:00", "Z")
    head["datacontenttype"] = "application/json"
    head["dataschema"] = f"https://fmc.example/schemas/{event.event_type}.json"
    if correlation_id is not None:
        head["correlationid"] = correlation_id
    if causation_id is not None:
        head["causationid"] = causation_id
    if traceparent is not None:
        # CloudEvents Distributed Tracing extension: the W3C trace context of the work that emitted it.
        head["traceparent"] = traceparent
    return to_json(head)[:-1] + b',"data":' + event.__pydantic_serializer__.to_json(event) + b"}"


def envelope_for(
    *,
    event_type: str,
    source: str,
    data: dict[str, Any],
    time: datetime,
    subject: str | None,
    dataschema: str | None,
    correlation_id: str | None,
    causation_id: str | None,
) -> Envelope:
    return Envelope(
        id=new_event_id(),
        source=source,
        type=event_type,
        subject=subject,
        time=time,
        dataschema=dataschema,
        correlationid=correlation_id,
        causationid=causation_id,
        data=data,
    )
