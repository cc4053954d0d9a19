"""GET /v1/ops/health: what the operators' console shows of a service's messaging, in every service.

The outbox backlog (events committed but not yet published), the dead letters the service's
consumers wrote (how many, and the latest few by code and place: never the message, whose bytes
stay on the dead-letter topic), and each consumer group of the answering process with its lag when
the broker has told it. Operators only; nothing in it is a secret or a score.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from fmc_common.web.deps import OperatorOnly, RuntimeDep
from fmc_common.web.problems import problem_responses

router = APIRouter(tags=["operations"])

LATEST_DEAD_LETTERS = 5


class OutboxHealth(BaseModel):
    unsent: int = Field(description="Events committed and not yet published to Kafka")
    oldest_unsent_at: datetime | None = Field(description="When the oldest of them was committed")


class DeadLetterOut(BaseModel):
    consumer: str
    source_topic: str
    reason: str = Field(description="The `fmc-dlq-reason` code (docs/operations.md)")
    dead_letter_topic: str
    at: datetime


class DeadLetterHealth(BaseModel):
    count: int = Field(description="Dead letters this service's consumers wrote, ever")
    latest: list[DeadLetterOut] = Field(description=f"The latest {LATEST_DEAD_LETTERS}, newest first")


class ConsumerHealth(BaseModel):
    name: str
    running: bool
    lag: int | None = Field(
        description="Messages of the partitions this process holds not handled yet (null: not known yet)"
    )


class OpsHealth(BaseModel):
    service: str
    outbox: OutboxHealth
    dead_letters: DeadLetterHealth
    consumers: list[ConsumerHealth] = Field(description="The consumer groups of the process that answered")


@router.get(
    "/v1/ops/health",
    response_model=OpsHealth,
    responses=problem_responses(401, 403),
    summary="Messaging health: outbox backlog, dead letters, consumers",
)
async def ops_health(runtime: RuntimeDep, actor: OperatorOnly) -> OpsHealth:
    """Operators. Read from the service's own tables (the whole service) and from the answering
    process (its consumers): no Kafka read, so it answers during a broker outage too."""
    outbox = runtime.tables.outbox
    letters = runtime.tables.dead_letters
    async with runtime.sessions() as session:
        backlog = (
            await session.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
            )
        ).one()
        count = await session.scalar(select(func.count()).select_from(letters))
        latest = (
            await session.execute(select(letters).order_by(letters.c.seq.desc()).limit(LATEST_DEAD_LETTERS))
        ).all()
    return OpsHealth(
        service=runtime.settings.service_name,
        outbox=OutboxHealth(unsent=int(backlog[0] or 0), oldest_unsent_at=backlog[1]),
        dead_letters=DeadLetterHealth(
            count=int(count or 0),
            latest=[
                DeadLetterOut(
                    consumer=row.consumer,
                    source_topic=row.source_topic,
                    reason=row.reason,
                    dead_letter_topic=row.dead_letter_topic,
                    at=row.at,
                )
                for row in latest
            ],
        ),
        consumers=[
            ConsumerHealth(name=name, running=running, lag=lag)
            for name, running, lag in await runtime.consumer_states()
        ],
    )
