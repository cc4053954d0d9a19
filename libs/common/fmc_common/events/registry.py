"""Events emitted by the registry."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from fmc_common.events.base import Event
from fmc_common.events.topics import Topic


class TeamRegistered(Event):
    """A team (a consortium led by an organisation) was registered in the programme."""

    event_type = "fmc.registry.team-registered.v1"
    topic = Topic.REGISTRY

    team_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    lead_organisation: str = Field(min_length=1, max_length=200)
    registered_at: datetime

    def partition_key(self) -> str:
        return str(self.team_id)

    def subject(self) -> str | None:
        return f"teams/{self.team_id}"
