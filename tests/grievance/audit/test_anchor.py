"""Anchoring the audit trail: the verified head is returned, checkpoints of it are published signed,
and a tail rewound or re-chained behind the service's back (which the chain alone cannot show) is
caught against a checkpoint taken before."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fmc_common import db
from fmc_common.audit import checkpoint
from fmc_common.audit.chain import ChainedFields, ChainHead
from fmc_common.events.envelope import Envelope
from fmc_common.events.grievance import AuditCheckpointed
from fmc_common.events.topics import CATALOGUE, Topic
from fmc_common.runtime import ServiceRuntime
from fmc_grievance.audit.checkpoints import AuditCheckpointer
from fmc_grievance.audit.models import AuditEntry
from grievance.audit.test_tamper import lift_append_only_rule, verification
from grievance.harness import Grievance, GrievanceDeployment
from support.eventually import eventually

KEY = "checkpoint-key-for-tests-only-0123456789"
CHECKPOINT_KEY = b"audit/grievance"  # the partition key of every checkpoint of this trail


@pytest.fixture
def anchored(deployment: GrievanceDeployment) -> GrievanceDeployment:
    """The deployment with a checkpoint key; the loop ticks often, only a forced checkpoint is certain."""
    settings = deployment.settings.model_copy(
        update={
            "audit_checkpoint_key": SecretStr(KEY),
            "audit_checkpoint_every_seconds": 0.2,
            "audit_checkpoint_every_entries": 2,
        }
    )
    return GrievanceDeployment(settings, deployment.clock, deployment.auth)


@pytest.fixture
async def engine(anchored: GrievanceDeployment) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(anchored.settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def five_entries(service: Grievance) -> None:
    team = uuid.uuid4()
    await service.notify([team, uuid.uuid4()])  # entries 1 and 2
    objection = (await service.file(team)).json()["id"]  # 3
    decided = await service.review_and_decide(objection, "rejected", "The process was followed.")  # 4, 5
    assert decided.status_code == 200, decided.text


def checkpointer(service: Grievance) -> AuditCheckpointer:
    runtime: ServiceRuntime = service.app.state.runtime
    return runtime.component(AuditCheckpointer)


async def checkpoint_now(service: Grievance) -> AuditCheckpointed:
    event = await checkpointer(service).checkpoint_once(force=True)
    assert event is not None
    return event


async def against(service: Grievance, seq: int, hash: str) -> dict[str, Any]:
    response = await service.client.get(
        "/v1/audit/verification",
        params={"anchor_seq": seq, "anchor_hash": hash},
        headers=service.operator(),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def rewind(engine: AsyncEngine, to_seq: int) -> None:
    """Remove every entry after ``to_seq`` and point the head at it: the chain alone stays intact."""
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM audit_entries WHERE seq > :seq"), {"seq": to_seq})
        await connection.execute(
            text(
                "UPDATE audit_head SET seq = :seq, hash = (SELECT hash FROM audit_entries WHERE seq = :seq)"
            ),
            {"seq": to_seq},
        )


async def rechain(engine: AsyncEngine, from_seq: int, reason: str) -> None:
    """Rewrite the entries from ``from_seq`` on and recompute every hash after them, and the head."""
    async with AsyncSession(engine) as session:
        rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    prev = next(row.hash for row in rows if row.seq == from_seq - 1)
    async with engine.begin() as connection:
        for row in (row for row in rows if row.seq >= from_seq):
            fields = dataclasses.replace(_fields(row), reason=reason, prev_hash=prev)
            prev = fields.hash()
            await connection.execute(
                text(
                    "UPDATE audit_entries SET reason = :reason, prev_hash = :prev, hash = :hash"
                    " WHERE seq = :seq"
                ),
                {"reason": reason, "prev": fields.prev_hash, "hash": prev, "seq": row.seq},
            )
        await connection.execute(text("UPDATE audit_head SET hash = :hash"), {"hash": prev})


def _fields(row: AuditEntry) -> ChainedFields:
    return ChainedFields(
        seq=row.seq,
        at=row.at,
        actor_subject=row.actor_subject,
        actor_role=row.actor_role,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        team_id=str(row.team_id) if row.team_id else None,
        reason=row.reason,
        details=row.details,
        prev_hash=row.prev_hash,
    )


async def checkpoints_on(broker: str, wanted: Callable[[Envelope], bool]) -> list[Envelope]:
    """The checkpoints on the grievance topic that ``wanted`` accepts, read from the start."""
    consumer = AIOKafkaConsumer(
        str(Topic.GRIEVANCE), bootstrap_servers=broker, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    envelopes: list[Envelope] = []
    try:
        while batches := await consumer.getmany(timeout_ms=1000):  # until the topic is read to its end
            envelopes += [
                Envelope.from_bytes(r.value or b"")
                for b in batches.values()
                for r in b
                if r.key == CHECKPOINT_KEY
            ]
    finally:
        await consumer.stop()
    return [e for e in envelopes if e.type == AuditCheckpointed.event_type and wanted(e)]


class TestVerifiedHead:
    async def test_verification_returns_the_head_it_verified(self, anchored: GrievanceDeployment) -> None:
        async with anchored.running() as service:
            empty = await verification(service)
            assert (empty["head_seq"], empty["head_hash"], empty["head_at"]) == (0, "0" * 64, None)
            await five_entries(service)
            report = await verification(service)
            entries = (await service.client.get("/v1/audit", headers=service.operator())).json()["items"]
            assert (report["intact"], report["head_seq"], report["head_hash"], report["head_at"]) == (
                True,
                5,
                entries[-1]["hash"],
                entries[-1]["at"],
            )

    async def test_half_an_anchor_is_refused(self, grievance: Grievance) -> None:
        response = await grievance.client.get(
            "/v1/audit/verification", params={"anchor_seq": 1}, headers=grievance.operator()
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")


class TestAnchoredVerification:
    async def test_an_untampered_chain_matches_its_checkpoints(self, anchored: GrievanceDeployment) -> None:
        async with anchored.running() as service:
            await five_entries(service)
            taken = await checkpoint_now(service)
            assert (await against(service, taken.seq, taken.hash))["intact"] is True
            await five_entries(service)  # the trail grows past the checkpoint
            report = await against(service, taken.seq, taken.hash)
            assert (report["intact"], report["head_seq"]) == (True, 10)

    async def test_a_rewound_tail_passes_plain_verification_but_not_a_checkpoint(
        self, anchored: GrievanceDeployment, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with anchored.running() as service:
            await five_entries(service)
            taken = await checkpoint_now(service)
            assert taken.seq == 5
            await lift_append_only_rule(engine)
            await rewind(engine, to_seq=3)

            plain = await verification(service)
            assert (plain["intact"], plain["head_seq"]) == (True, 3)  # what nothing but an anchor shows
            report = await against(service, taken.seq, taken.hash)
            assert (report["intact"], report["problem"], report["first_broken_seq"], report["head_seq"]) == (
                False,
                "anchor-mismatch",
                5,
                3,
            )

            async def alarmed() -> bool:  # the running service noticed too
                return any(r.getMessage() == "the audit head went back" for r in caplog.records)

            assert await eventually(alarmed, timeout=10, what="the checkpoint loop's alarm")

    async def test_a_rechained_tail_passes_plain_verification_but_not_a_checkpoint(
        self, anchored: GrievanceDeployment, engine: AsyncEngine
    ) -> None:
        async with anchored.running() as service:
            await five_entries(service)
            taken = await checkpoint_now(service)
            await lift_append_only_rule(engine)
            await rechain(engine, from_seq=4, reason="The objection was accepted.")

            plain = await verification(service)
            assert (plain["intact"], plain["head_seq"]) == (True, 5)
            assert plain["head_hash"] != taken.hash
            report = await against(service, taken.seq, taken.hash)
            assert (
                report["intact"],
                report["problem"],
                report["first_broken_seq"],
                report["entries_checked"],
            ) == (
                False,
                "anchor-mismatch",
                5,
                4,
            )
            # An anchor before the rewritten part still holds: the report places the tampering after it.
            entries = (await service.client.get("/v1/audit", headers=service.operator())).json()["items"]
            assert (await against(service, 3, entries[2]["hash"]))["intact"] is True


class TestCheckpointEvent:
    async def test_the_checkpoint_is_published_signed_on_the_internal_topic(
        self, anchored: GrievanceDeployment, broker: str
    ) -> None:
        async with anchored.running() as service:
            await five_entries(service)
            taken = await checkpoint_now(service)

            async def published() -> Envelope | None:
                found = await checkpoints_on(broker, lambda e: e.data["hash"] == taken.hash)
                return found[0] if found else None

            envelope = await eventually(published, what="the checkpoint on the grievance topic")
            event = AuditCheckpointed.model_validate(envelope.data)
            head = ChainHead(event.seq, event.hash, event.at)
            assert (event.seq, event.trail, event.key_id) == (5, "grievance", "1")
            assert checkpoint.signature_valid(KEY.encode(), event.trail, head, event.signature)
            assert not checkpoint.signature_valid(b"another key" * 4, event.trail, head, event.signature)
            assert (await against(service, event.seq, event.hash))["intact"] is True

    async def test_the_loop_publishes_checkpoints_by_itself(
        self, anchored: GrievanceDeployment, broker: str
    ) -> None:
        async with anchored.running() as service:
            await five_entries(service)
            head = await verification(service)
            # Every 2 entries, or once the interval passed on the service's clock with anything new:
            # past it, the head is published whichever entry the loop saw last.
            service.clock.advance(timedelta(seconds=1))

            async def published() -> bool:
                return bool(await checkpoints_on(broker, lambda e: e.data["hash"] == head["head_hash"]))

            assert await eventually(published, what="a checkpoint of the head published by the loop")

    def test_no_partner_facing_topic_carries_checkpoints(self) -> None:
        public = {spec.topic for spec in CATALOGUE if spec.partner_facing}
        assert AuditCheckpointed.topic not in public

    async def test_without_a_key_nothing_is_published(self, grievance: Grievance) -> None:
        """The shared service is configured without a checkpoint key."""
        await five_entries(grievance)
        assert checkpointer(grievance).enabled is False
        assert await checkpointer(grievance).checkpoint_once(force=True) is None
