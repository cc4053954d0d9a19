"""The audit trail in the database: append-only, and any change made behind the service's back is
reported by the verification endpoint, with the entry where the chain breaks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from fmc_common import db, migrations
from fmc_grievance.main import MIGRATIONS
from grievance.harness import Grievance, GrievanceDeployment


@pytest.fixture
async def engine(deployment: GrievanceDeployment) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(deployment.settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def verification(service: Grievance) -> dict[str, Any]:
    response = await service.client.get("/v1/audit/verification", headers=service.operator())
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def lift_append_only_rule(engine: AsyncEngine) -> None:
    """What someone with the database's owner rights could do."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
            )
        else:
            await connection.execute(text("DROP TRIGGER audit_entries_no_update"))
            await connection.execute(text("DROP TRIGGER audit_entries_no_delete"))


class TestTamperEvidence:
    async def test_the_database_refuses_to_change_an_entry(
        self, deployment: GrievanceDeployment, engine: AsyncEngine
    ) -> None:
        await migrations.upgrade(MIGRATIONS, deployment.settings.database_url)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO audit_entries (seq, at, actor_subject, actor_role, action, entity_type,"
                    " entity_id, details, prev_hash, hash)"
                    " VALUES (1, :at, 's', 'operator', 'a', 'e', 'i', '{}', :h, :h)"
                ),
                {"at": datetime.now(UTC), "h": "0" * 64},
            )
        for statement in ("UPDATE audit_entries SET reason = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))

    async def test_altered_and_removed_entries_are_reported_where_the_chain_breaks(
        self, deployment: GrievanceDeployment, engine: AsyncEngine
    ) -> None:
        async with deployment.running() as service:
            team = uuid.uuid4()
            await service.notify([team, uuid.uuid4()])  # entries 1 and 2
            objection = (await service.file(team)).json()["id"]  # 3
            decided = await service.review_and_decide(
                objection, "rejected", "The process was followed."
            )  # 4, 5
            assert decided.status_code == 200
            assert (await verification(service))["intact"] is True
            await lift_append_only_rule(engine)

            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE audit_entries SET reason = 'The objection was accepted.' WHERE seq = 5")
                )
            report = await verification(service)
            assert report["intact"] is False
            assert (report["first_broken_seq"], report["problem"], report["entries_checked"]) == (
                5,
                "hash-mismatch",
                4,
            )

            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE audit_entries SET reason = 'The process was followed.' WHERE seq = 5")
                )
            assert (await verification(service))["intact"] is True

            async with engine.begin() as connection:
                await connection.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
            report = await verification(service)
            assert (report["intact"], report["first_broken_seq"], report["problem"]) == (
                False,
                3,
                "sequence-gap",
            )
