"""Many rows into one table on SQLite: the INSERT compiled once, rows handed to ``executemany`` as tuples.

SQLAlchemy builds and processes a parameter dictionary per row for every execution; the gateway
stores every item of a run and every answer, so on SQLite (the embedded default) that work is done
here once per statement instead: the column types' own bind processors, looked up once, turn each
row into the tuple the driver takes. The values stored are the ones SQLAlchemy would store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.sqlite import Insert
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from fmc_common.db import UtcDateTime

Processor = Callable[[Any], Any]
# Timestamps the fast text of an aware datetime is checked against SQLAlchemy's at start.
SAMPLES = (
    None,
    datetime(2026, 12, 6, 2, 33, 7, 644306, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),  # not UTC
    datetime(1, 1, 1, tzinfo=UTC),
)


def utc_text(value: datetime | None) -> str | None:
    """An aware datetime as SQLite stores a ``UtcDateTime``: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def bind_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    """The column type's own bind processor; for a ``UtcDateTime`` on SQLite the same text made in
    one call (SQLAlchemy's, the decorator's conversion then the dialect's formatting, costs about
    ten times more, twice per record), used only when it gives the same text on every sample."""
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if (
        isinstance(column_type, UtcDateTime)
        and dialect.name == "sqlite"
        and process is not None
        and all(utc_text(sample) == process(sample) for sample in SAMPLES)
    ):
        return utc_text
    return process


class SqliteBulkInsert:
    """``statement`` (an INSERT into ``table`` naming every column) for SQLite's driver."""

    def __init__(self, table: Table, statement: Insert, dialect: Dialect) -> None:
        columns = [column.key for column in table.c]
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        keys = compiled.positiontup
        if keys is None or sorted(keys) != sorted(columns):
            raise RuntimeError(f"the insert into {table.name} did not compile to one parameter per column")
        self.sql = compiled.string
        self._columns = [(key, bind_processor(table.c[key].type, dialect)) for key in keys]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row (column key -> value, every column) as the driver's tuple."""
        columns = self._columns
        return [
            tuple([row[key] if process is None else process(row[key]) for key, process in columns])
            for row in rows
        ]
