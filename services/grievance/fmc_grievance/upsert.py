"""``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite alike: a row written at most once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def insert_or_skip(
    session: AsyncSession, model: type[DeclarativeBase], values: Mapping[str, Any], keys: Sequence[str]
) -> postgresql.Insert | sqlite.Insert:
    """The insert, skipped without error when a row with the same ``keys`` exists (or is being written)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).values(**values).on_conflict_do_nothing(index_elements=list(keys))
    return sqlite.insert(model).values(**values).on_conflict_do_nothing(index_elements=list(keys))
