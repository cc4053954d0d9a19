"""SQLite's bulk insert makes the same parameters SQLAlchemy would (pure: no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import create_async_engine

from fmc_common.db import UtcDateTime
from fmc_gateway.runs.bulk import bind_processor, utc_text


def test_a_timestamp_s_text_is_sqlalchemy_s_for_any_instant_and_offset() -> None:
    dialect = sqlite.dialect()
    column_type = UtcDateTime()
    reference = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert reference is not None
    assert bind_processor(column_type, dialect) is utc_text
    rng = random.Random(17)
    for _ in range(2000):
        offset = timezone(timedelta(minutes=rng.randrange(-14 * 60, 14 * 60 + 1)))
        instant = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 60 * 365 * 86400), microseconds=rng.choice([0, rng.randrange(10**6)])
        )
        value = instant.astimezone(offset)
        assert utc_text(value) == reference(value)


def test_a_naive_timestamp_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 12, 6, 2, 0))  # naive: refused


def test_other_backends_keep_sqlalchemy_s_processor() -> None:
    dialect = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1/none").dialect  # never connects
    assert dialect.name == "postgresql"
    assert bind_processor(UtcDateTime(), dialect) is not utc_text
