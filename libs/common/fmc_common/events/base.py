"""Base of every event type: a frozen pydantic model with a versioned type name and a topic."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from fmc_common.events.topics import Topic


class Event(BaseModel):
    """A fact that happened. Subclasses set ``event_type`` (ending in ``.vN``) and ``topic``.

    A change to a published event type must stay backward compatible (new optional fields only),
    or become a new type with the next version.
    """

    # Tolerant reader: a consumer still on the previous version of an event ignores fields added
    # since (new fields are optional by the versioning rule), instead of dead-lettering the event.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    topic: ClassVar[Topic]

    def partition_key(self) -> str:
        """Everything about one aggregate (stage, submission, run, team) shares a key: stays in order."""
        raise NotImplementedError

    def subject(self) -> str | None:
        return None

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema["$id"] = f"https://fmc.example/schemas/{cls.event_type}.json"
        schema["title"] = cls.event_type
        return schema
