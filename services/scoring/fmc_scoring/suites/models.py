"""Suites, their items and, in a table of their own, their answer keys.

Items and keys are separate tables so that no query serving prompts can reach a key by accident:
the items endpoint for the gateway reads ``suite_items`` only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_scoring.base import Base
from fmc_scoring.suites.content import SuiteSource
from fmc_scoring.values import ItemKind


class Suite(Base):
    """One version of a suite. ``content_hash`` covers items and keys; ``items_sha256`` the prompts
    document the gateway fetches, byte for byte."""

    __tablename__ = "suites"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[ItemKind] = mapped_column(StrEnumColumn(ItemKind, 32))
    source: Mapped[SuiteSource] = mapped_column(StrEnumColumn(SuiteSource, 32))
    demo: Mapped[bool] = mapped_column(Boolean)
    item_count: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    items_sha256: Mapped[str] = mapped_column(String(64))
    # The answer key's revision in force: 1 as created, one more for each published erratum.
    key_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SuiteItem(Base):
    """What the model is asked: the rendered prompt (choices included) and, for grading, the choices."""

    __tablename__ = "suite_items"
    __table_args__ = (UniqueConstraint("suite_id", "item_id"),)

    suite_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("suites.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    labels: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class SuiteAnswerKey(Base):
    """What counts as right for one item. Never served to the gateway, a team or the public."""

    __tablename__ = "suite_answer_keys"

    suite_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("suites.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)


class SuiteKeyRevision(Base):
    """An erratum: a new revision of a suite's answer key, with the items it corrects and why.

    The corrected answers are stored here (``before``/``after`` per item, never served); the keys
    table holds the revision in force. ``keys_sha256`` covers the whole key after the erratum."""

    __tablename__ = "suite_key_revisions"

    suite_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("suites.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    item_ids: Mapped[list[str]] = mapped_column(JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    keys_sha256: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
