"""CloudEvents 1.0 envelope (structured JSON mode) with correlation and causation extensions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"


class Envelope(BaseModel):
    """What travels on every topic. ``data`` is validated against the event model named by ``type``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
