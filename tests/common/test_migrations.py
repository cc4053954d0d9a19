"""Every service's Alembic migrations run on SQLite and PostgreSQL and produce exactly its models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from fmc_common import db, migrations
from fmc_gateway import main as gateway_main
from fmc_gateway.models import Base as GatewayBase
from fmc_grievance import main as grievance_main
from fmc_grievance.models import Base as GrievanceBase
from fmc_registry import main as registry_main
from fmc_registry.models import Base as RegistryBase
from fmc_scoring import main as scoring_main
from fmc_scoring.models import Base as ScoringBase
from support.databases import DatabaseFactory

SERVICES: dict[str, tuple[Path, MetaData]] = {
    "registry": (registry_main.MIGRATIONS, RegistryBase.metadata),
    "inference-gateway": (gateway_main.MIGRATIONS, GatewayBase.metadata),
    "scoring": (scoring_main.MIGRATIONS, ScoringBase.metadata),
    "grievance": (grievance_main.MIGRATIONS, GrievanceBase.metadata),
}


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("service", sorted(SERVICES))
class TestMigrations:
    async def test_upgrade_to_head_matches_the_models(
        self, service: str, database_factory: DatabaseFactory
    ) -> None:
        path, metadata = SERVICES[service]
        url = await database_factory.create(service)
        await migrations.upgrade(path, url)
        engine = db.create_engine(url)
        try:
            async with engine.connect() as connection:
                differences = await connection.run_sync(_differences, metadata)
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        finally:
            await engine.dispose()
        assert differences == []
        assert {"outbox", "inbox", "idempotency_keys", "alembic_version"} <= tables

    async def test_a_restart_migrates_again_without_touching_data(
        self, service: str, database_factory: DatabaseFactory
    ) -> None:
        path, _ = SERVICES[service]
        url = await database_factory.create(service)
        await migrations.upgrade(path, url)
        engine = db.create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO inbox (consumer, event_id, event_type, handled_at)"
                        " VALUES ('c', 'e', 't', :t)"
                    ),
                    {"t": datetime.now(UTC)},
                )
            await migrations.upgrade(path, url)  # every start runs migrations: nothing may change
            async with engine.connect() as connection:
                rows = (await connection.execute(text("SELECT consumer, event_id FROM inbox"))).all()
        finally:
            await engine.dispose()
        assert [tuple(r) for r in rows] == [("c", "e")]
