"""A minimal service database (platform tables plus an effects table) for testing the messaging plumbing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fmc_common import db
from fmc_common.clock import SystemClock
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.messaging.consumer import Handler
from fmc_common.messaging.outbox import Outbox
from fmc_common.messaging.tables import PlatformTables, platform_tables

METADATA = db.new_metadata()
TABLES: PlatformTables = platform_tables(METADATA)
# No unique constraint on purpose: applying an event twice would show up as two rows.
EFFECTS = Table(
    "effects",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("team_id", String(36), nullable=False),
)


@dataclass
class Store:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(TABLES, source="/fmc/test", clock=SystemClock())

    @classmethod
    async def create(cls, url: str) -> Store:
        engine = db.create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        return cls(engine=engine, sessions=db.session_factory(engine))

    async def close(self) -> None:
        await self.engine.dispose()

    async def stage_events(self, count: int) -> list[TeamRegistered]:
        """Write ``count`` events through the outbox, committed in one transaction."""
        events = [
            TeamRegistered(
                team_id=uuid.uuid4(),
                name=f"team {i}",
                lead_organisation="Org",
                registered_at=datetime.now(UTC),
            )
            for i in range(count)
        ]
        async with db.transaction(self.sessions) as session:
            for event in events:
                await self.outbox.add(session, event)
        return events

    async def unsent(self) -> int:
        async with self.sessions() as session:
            value = await session.scalar(
                select(func.count()).select_from(TABLES.outbox).where(TABLES.outbox.c.sent_at.is_(None))
            )
            return int(value or 0)

    async def effect_counts(self, consumer: str) -> dict[str, int]:
        """team id -> how many times the consumer applied an event about it."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(EFFECTS.c.team_id, func.count())
                .where(EFFECTS.c.consumer == consumer)
                .group_by(EFFECTS.c.team_id)
            )
            return {str(team_id): int(n) for team_id, n in rows.all()}

    async def dead_letter_tally(self) -> list[tuple[str, str, str, str]]:
        """The dead letters the consumers noted: (consumer, source topic, reason, dead-letter topic)."""
        letters = TABLES.dead_letters
        async with self.sessions() as session:
            rows = await session.execute(
                select(
                    letters.c.consumer, letters.c.source_topic, letters.c.reason, letters.c.dead_letter_topic
                ).order_by(letters.c.seq)
            )
            return [(a, b, c, d) for a, b, c, d in rows.all()]


def recording_handler(consumer: str) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, event: TeamRegistered) -> None:
        await session.execute(
            EFFECTS.insert().values(consumer=consumer, event_id=envelope.id, team_id=str(event.team_id))
        )

    return handle
