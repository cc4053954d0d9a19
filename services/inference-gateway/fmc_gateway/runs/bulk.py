"""Many rows into one table on SQLite: the INSERT compiled once, rows handed to ``executemany`` as tuples.

SQLAlchemy builds and processes a parameter dictionary per row for every execution; the gateway
stores every item of a run and every answer, so on SQLite (the embedded default) that work is done
here once per statement instead: the column types' own bind processors, looked up once, turn each
row into the tuple the driver takes. The values stored are the ones SQLAlchemy would store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.sqlite import Insert
from sqlalchemy.engine import Dialect


class SqliteBulkInsert:
    """``statement`` (an INSERT into ``table`` naming every column) for SQLite's driver."""

    def __init__(self, table: Table, statement: Insert, dialect: Dialect) -> None:
        columns = [column.key for column in table.c]
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        keys = compiled.positiontup
        if keys is None or sorted(keys) != sorted(columns):
            raise RuntimeError(f"the insert into {table.name} did not compile to one parameter per column")
        self.sql = compiled.string
        self._columns = [
            (key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for key in keys
        ]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row (column key -> value, every column) as the driver's tuple."""
        columns = self._columns
        return [
            tuple([row[key] if process is None else process(row[key]) for key, process in columns])
            for row in rows
        ]
