"""The rounds migration (grievance_0003) keeps what was recorded before it as the first round, and
then lets a team be notified again, and a decision close again, in a later round."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from fmc_common import db, migrations
from fmc_common.db import UtcDateTime
from fmc_grievance import main as grievance_main
from support.databases import DatabaseFactory

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

# The tables as the previous revision left them, plus the new columns (used only after upgrading).
NOTIFICATIONS = sa.table(
    "notifications",
    *[sa.column(name, sa.Uuid()) for name in ("id", "decision_id", "stage_id", "team_id", "supersedes_id")],
    sa.column("decision_kind", sa.String()),
    *[sa.column(name, UtcDateTime()) for name in ("notified_at", "closes_at", "recorded_at")],
    sa.column("objection_days", sa.Integer()),
    sa.column("last_day", sa.Date()),
    sa.column("round", sa.Integer()),
)
CLOSINGS = sa.table(
    "decision_closings",
    sa.column("decision_kind", sa.String()),
    sa.column("decision_id", sa.Uuid()),
    sa.column("stage_id", sa.Uuid()),
    sa.column("closed_at", UtcDateTime()),
    sa.column("event_id", sa.String()),
    sa.column("round", sa.Integer()),
)


def notification(decision: uuid.UUID, team: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "decision_kind": "stage-result",
        "decision_id": decision,
        "stage_id": decision,
        "team_id": team,
        "notified_at": AT,
        "closes_at": AT,
        "recorded_at": AT,
        "objection_days": 10,
        "last_day": date(2026, 12, 11),
        **extra,
    }


def closing(decision: uuid.UUID, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "decision_kind": "stage-result",
        "decision_id": decision,
        "stage_id": decision,
        "closed_at": AT,
        "event_id": event_id,
        **extra,
    }


class TestRoundsMigration:
    async def test_earlier_records_become_round_one_and_a_second_round_fits_beside_them(
        self, database_factory: DatabaseFactory
    ) -> None:
        url = await database_factory.create("grievance")
        await migrations.upgrade(grievance_main.MIGRATIONS, url, "grievance_0002")
        engine = db.create_engine(url)
        decision, team = uuid.uuid4(), uuid.uuid4()
        first = notification(decision, team)
        try:
            async with engine.begin() as connection:
                await connection.execute(NOTIFICATIONS.insert().values(first))
                await connection.execute(CLOSINGS.insert().values(closing(decision, "e1")))
            await migrations.upgrade(grievance_main.MIGRATIONS, url)
            async with engine.begin() as connection:
                rounds = (await connection.execute(sa.select(NOTIFICATIONS.c.round))).scalars().all()
                closed = (await connection.execute(sa.select(CLOSINGS.c.round))).scalars().all()
                assert (list(rounds), list(closed)) == ([1], [1])
                second = notification(decision, team, round=2, supersedes_id=first["id"])
                await connection.execute(NOTIFICATIONS.insert().values(second))
                await connection.execute(CLOSINGS.insert().values(closing(decision, "e2", round=2)))
                count = await connection.scalar(sa.select(sa.func.count()).select_from(NOTIFICATIONS))
                closings = await connection.scalar(sa.select(sa.func.count()).select_from(CLOSINGS))
            assert (count, closings) == (2, 2)
        finally:
            await engine.dispose()
