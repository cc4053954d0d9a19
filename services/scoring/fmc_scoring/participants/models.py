from __future__ import annotations

from fmc_common.participants import ParticipantColumns
from fmc_scoring.base import Base


class Participant(ParticipantColumns, Base):
    """A team recorded from ``TeamRegistered``; ``correlation_id`` ties it to the request that caused it."""

    __tablename__ = "participants"
