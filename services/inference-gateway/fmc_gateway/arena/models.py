from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import UtcDateTime
from fmc_gateway.base import Base


class ArenaBattle(Base):
    """Two anonymised answers to one voter's prompt; which submission is A or B stays here."""

    __tablename__ = "arena_battles"
    __table_args__ = (Index("ix_arena_battles_voter_id_created_at", "voter_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    voter_id: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    decoding: Mapped[dict[str, Any]] = mapped_column(JSON)
    a_submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    b_submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    a_text: Mapped[str] = mapped_column(Text)
    b_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArenaVoter(Base):
    """One row per voter, locked by each battle reservation: the limit's count is read under it.

    PostgreSQL's default isolation lets two transactions count the same recent battles and both
    insert; the upsert of this row makes the second wait until the first commits (SQLite's write
    lock, taken by ``BEGIN IMMEDIATE``, already does)."""

    __tablename__ = "arena_voters"

    voter_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_reserved_at: Mapped[datetime] = mapped_column(UtcDateTime)
