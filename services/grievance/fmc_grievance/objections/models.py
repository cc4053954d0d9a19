"""Objections, every version of them, their attachments, and the re-evaluations they caused."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import RootModel
from sqlalchemy import (
    JSON,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.grievance import DecisionKind, ObjectionGrounds, ReEvaluationConcern
from fmc_grievance.base import Base


class ObjectionStatus(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under-review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = (ObjectionStatus.RECEIVED, ObjectionStatus.UNDER_REVIEW)


class Concerns(RootModel[list[ReEvaluationConcern]]):
    """What a re-evaluation recomputes, as ``re_evaluations.concerns`` stores it."""


class Objection(Base):
    """What a team objects to and where the objection stands; the content is in its versions."""

    __tablename__ = "objections"
    __table_args__ = (UniqueConstraint("team_id", "client_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    decision_kind: Mapped[DecisionKind] = mapped_column(StrEnumColumn(DecisionKind, 32))
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The client's idempotency key and a hash of the filing: a retry returns this objection.
    client_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[ObjectionStatus] = mapped_column(StrEnumColumn(ObjectionStatus, 32))
    current_version: Mapped[int] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    filed_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    review_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ObjectionVersion(Base):
    """One version of an objection's content. Versions are only added, never changed."""

    __tablename__ = "objection_versions"
    __table_args__ = (UniqueConstraint("objection_id", "client_key"),)

    objection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("objections.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grounds: Mapped[ObjectionGrounds] = mapped_column(StrEnumColumn(ObjectionGrounds, 32))
    statement: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    client_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))


class AttachmentBlob(Base):
    """Attachment content, stored once per distinct content (keyed by its sha256)."""

    __tablename__ = "attachment_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VersionAttachment(Base):
    """An attachment as a version lists it: its name, media type, size and content hash."""

    __tablename__ = "version_attachments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["objection_id", "version"],
            ["objection_versions.objection_id", "objection_versions.version"],
            name="fk_version_attachments_objection_versions",
        ),
    )

    objection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("attachment_blobs.sha256"), index=True)


class ReEvaluation(Base):
    """The re-evaluation an accepted objection asked scoring for (at most one per objection)."""

    __tablename__ = "re_evaluations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    objection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("objections.id"), unique=True)
    decision_kind: Mapped[DecisionKind] = mapped_column(StrEnumColumn(DecisionKind, 32))
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # A JSON list: written from ``Concerns.model_dump``, read back with ``Concerns.model_validate``.
    concerns: Mapped[list[str]] = mapped_column(JSON)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
