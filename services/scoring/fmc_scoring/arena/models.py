from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_scoring.arena.identity import TermKind
from fmc_scoring.arena.standings import Choice, DiscardReason
from fmc_scoring.base import Base


class Battle(Base):
    """Two anonymised answers to a voter's prompt. Which team is A or B is revealed after the vote."""

    __tablename__ = "arena_battles"
    __table_args__ = (Index("ix_arena_battles_voter_created_at", "voter", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    voter: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    a_team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    b_team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    a_submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    b_submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    a_text: Mapped[str] = mapped_column(Text)
    b_text: Mapped[str] = mapped_column(Text)
    gateway_battle_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Vote(Base):
    """The one vote of a battle. ``counted`` false: kept, but left out of the ratings (and why)."""

    __tablename__ = "arena_votes"
    __table_args__ = (Index("ix_arena_votes_voter_day", "voter", "seoul_day"),)

    battle_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    voter: Mapped[str] = mapped_column(String(200))
    choice: Mapped[Choice] = mapped_column(StrEnumColumn(Choice, 16))
    counted: Mapped[bool] = mapped_column(Boolean)
    discard_reason: Mapped[DiscardReason | None] = mapped_column(
        StrEnumColumn(DiscardReason, 64), nullable=True
    )
    # What the discarding rule matched: its kind (said to the voter) and the term (operators only).
    discard_term_kind: Mapped[TermKind | None] = mapped_column(StrEnumColumn(TermKind, 32), nullable=True)
    discard_term: Mapped[str | None] = mapped_column(String(200), nullable=True)
    seoul_day: Mapped[str] = mapped_column(String(10))
    voted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by an operator's exclusion (hygiene, e.g. a stuffing voter): kept, never counted again.
    exclusion_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Cast through the public (anonymous) arena: kept and counted apart, never in the stage's evidence
    # (docs/decisions/2026-12-06-anonymous-arena.md).
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class VoteExclusion(Base):
    """An operator's exclusion of votes for a stated hygiene reason (by voter or by vote ids)."""

    __tablename__ = "arena_vote_exclusions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    voter: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    excluded: Mapped[int] = mapped_column(Integer)
    excluded_by: Mapped[str] = mapped_column(String(200))
    excluded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VoteCount(Base):
    """A voter's counted votes on one Asia/Seoul day: the daily cap's counter.

    A counted vote raises it with one conditional upsert (``... WHERE counted < cap``) in the vote's
    transaction, so concurrent votes of one voter cannot pass the cap on any backend."""

    __tablename__ = "arena_vote_counts"

    voter: Mapped[str] = mapped_column(String(200), primary_key=True)
    seoul_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    counted: Mapped[int] = mapped_column(Integer)


class TeamAlias(Base):
    """Another name of a team that its model may call itself by (operators keep them; audited)."""

    __tablename__ = "arena_team_aliases"
    __table_args__ = (UniqueConstraint("team_id", "normalised"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    alias: Mapped[str] = mapped_column(String(200))
    normalised: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TermKind] = mapped_column(StrEnumColumn(TermKind, 32))
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArenaSetting(Base):
    """A stage's arena switches set by operators (audited). No row: the defaults (not public)."""

    __tablename__ = "arena_settings"

    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    public: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
