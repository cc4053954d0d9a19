"""Fresh databases for tests: a SQLite file, or a PostgreSQL database created and dropped per test."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(_dsn(postgres_admin_url()), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


class DatabaseFactory:
    """Creates databases for one test and drops them afterwards (runs never see each other's data)."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self._created: list[str] = []

    async def create(self, label: str = "db") -> str:
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp_path / f'{label}-{uuid.uuid4().hex[:8]}.db'}"
        name = f"fmc_test_{label.replace('-', '_')}_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(_dsn(postgres_admin_url()))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self._created.append(name)
        return make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self._created:
            return
        connection = await asyncpg.connect(_dsn(postgres_admin_url()))
        try:
            for name in self._created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
        self._created.clear()
