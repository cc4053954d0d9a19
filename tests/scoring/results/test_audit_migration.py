"""The plain audit trail recorded before scoring_0005 is carried into the hash chain, in its order, and
a stage finalised before it is final after it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, Integer, String, Text, Uuid, column, select, table

from fmc_common import db, migrations
from fmc_common.db import UtcDateTime
from fmc_scoring import main as scoring_main
from fmc_scoring.audit import service as audit
from fmc_scoring.audit.models import ScoringAuditEntry
from fmc_scoring.results.models import StageFinality
from support.databases import DatabaseFactory

BEFORE = "scoring_0004"

# The tables as they were at scoring_0004 (the models describe them as they are now).
PLAIN_TRAIL = table(
    "scoring_audit",
    column("at", UtcDateTime()),
    column("actor_subject", String()),
    column("actor_role", String()),
    column("action", String()),
    column("entity_type", String()),
    column("entity_id", String()),
    column("reason", Text()),
    column("details", JSON()),
)
RESULTS = table(
    "stage_results",
    column("id", Uuid()),
    column("stage_id", Uuid()),
    column("version", Integer()),
    column("status", String()),
    column("cause", String()),
    column("advancing_planned", Integer()),
    column("advancing", Integer()),
    column("vacancies", Integer()),
    column("blocking", JSON()),
    column("inputs", JSON()),
    column("proposed_by", String()),
    column("proposed_at", UtcDateTime()),
    column("approved_at", UtcDateTime()),
    column("finalized_at", UtcDateTime()),
)


async def test_earlier_entries_are_chained_in_their_order_and_a_finalised_stage_stays_final(
    database_factory: DatabaseFactory,
) -> None:
    url = await database_factory.create("scoring")
    await migrations.upgrade(scoring_main.MIGRATIONS, url, BEFORE)
    engine = db.create_engine(url)
    stage_id = uuid.uuid4()
    try:
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            await connection.execute(
                PLAIN_TRAIL.insert(),
                [
                    {
                        "at": now,
                        "actor_subject": "operator-kim",
                        "actor_role": "operator",
                        "action": action,
                        "entity_type": "stage",
                        "entity_id": str(stage_id),
                        "reason": None,
                        "details": {},
                    }
                    for action in ("criteria.set", "criteria.frozen", "result.finalized")
                ],
            )
            await connection.execute(
                RESULTS.insert().values(
                    id=uuid.uuid4(),
                    stage_id=stage_id,
                    version=1,
                    status="approved",
                    cause="initial",
                    advancing_planned=3,
                    advancing=3,
                    vacancies=0,
                    blocking=[],
                    inputs={},
                    proposed_by="operator-kim",
                    proposed_at=now,
                    approved_at=now,
                    finalized_at=now,
                )
            )
        await migrations.upgrade(scoring_main.MIGRATIONS, url)
        sessions = db.session_factory(engine)
        async with sessions() as session:
            entries = list(await session.scalars(select(ScoringAuditEntry).order_by(ScoringAuditEntry.seq)))
            report = await audit.verify(session)
            state = await session.get(StageFinality, stage_id)
    finally:
        await engine.dispose()
    assert [(e.seq, e.action) for e in entries] == [
        (1, "criteria.set"),
        (2, "criteria.frozen"),
        (3, "result.finalized"),
    ]
    assert (report.intact, report.entries_checked) == (True, 3)
    assert state is not None
    assert (state.final, state.version) == (True, 1)
