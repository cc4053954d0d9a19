"""Taking the write lock at the start of a transaction that reads before it writes.

On SQLite the Python driver begins a transaction only at the first write, so reads before it see
whatever was committed at the time, and another process may commit in between: a read-modify-write
would lose updates. ``BEGIN IMMEDIATE`` takes the database's write lock first (other writers wait
in the busy handler). On PostgreSQL, rows are locked where they are read (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def begin_writing(session: AsyncSession) -> None:
    """Call first in the transaction."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
