"""Kafka handlers: the gateway's run completion -> read the responses, grade them (thin adapter).

A run of a judged suite is not graded at once: its answers go to the judge (another gateway run),
and the judge run's completion grades it (fmc_scoring.judging). A run graded by pass@k over several
samples waits for its sample runs: the last completion grades it (``grading.sampled``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import InferenceRunCompleted, InferenceRunFailed
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.context import context_for, service_actor
from fmc_scoring.grading import judged as judging
from fmc_scoring.grading import sampled, service
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.settings import ScoringSettings


def consumer_spec(
    runtime: ServiceRuntime, gateway: GatewayClient, rounds: int, items_base_url: str
) -> ConsumerSpec:
    async def on_judged(session: AsyncSession, event: InferenceRunCompleted) -> bool:
        judge_run = await judging.judge_run_to_read(session, event.run_id)
        if judge_run is None:
            return False
        outputs = await gateway.responses(event.run_id, event.responses_sha256)
        ctx = context_for(runtime, session, service_actor("inference-gateway"), ScoringSettings)
        await judging.record_judgements(
            ctx, judge_run, event.completed_at, outputs, gateway, items_base_url, rounds
        )
        return True

    async def on_completed(session: AsyncSession, envelope: Envelope, event: InferenceRunCompleted) -> None:
        if await on_judged(session, event) or await on_sampled(runtime, gateway, rounds, session, event):
            return
        run = await service.run_to_grade(session, event.run_id)
        if run is None:
            return
        ctx = context_for(runtime, session, service_actor("inference-gateway"), ScoringSettings)
        responses = await gateway.responses(event.run_id, event.responses_sha256)
        if await judging.judged(session, run):
            await judging.request_judgement(
                ctx, run, event.completed_at, responses, event.responses_sha256, items_base_url, rounds
            )
            return
        await service.grade_completed(ctx, run, event, responses, rounds)

    async def on_failed(session: AsyncSession, envelope: Envelope, event: InferenceRunFailed) -> None:
        await record_failure(session, event)

    handlers: dict[type, Handler] = {InferenceRunCompleted: on_completed, InferenceRunFailed: on_failed}
    return ConsumerSpec(name="scoring.grading", topics=[Topic.GATEWAY], handlers=handlers)


async def record_failure(session: AsyncSession, event: InferenceRunFailed) -> None:
    """A failed gateway run: a judge run's, a sample's (pass@k) or a planned run's."""
    reason = f"{event.code}: {event.reason}"
    judge_run = await judging.judge_run_to_read(session, event.run_id)
    if judge_run is not None:
        await judging.record_failure(session, judge_run, event.failed_at, reason)
        return
    sample_run = await sampled.sample_run_to_read(session, event.run_id)
    if sample_run is not None:
        await sampled.record_failure(session, sample_run, event.failed_at, reason)
        return
    await service.record_failure(session, event)


async def on_sampled(
    runtime: ServiceRuntime,
    gateway: GatewayClient,
    rounds: int,
    session: AsyncSession,
    event: InferenceRunCompleted,
) -> bool:
    """A sample of a run graded by pass@k (``grading.sampled``), or such a planned run itself."""
    ctx = context_for(runtime, session, service_actor("inference-gateway"), ScoringSettings)
    sample_run = await sampled.sample_run_to_read(session, event.run_id)
    if sample_run is not None:
        completed, sha = event.completed_at, event.responses_sha256
        await sampled.record_sample(ctx, sample_run, completed, sha, gateway, rounds)
        return True
    run = await service.run_to_grade(session, event.run_id)
    if run is None or not await sampled.sampled(session, run):
        return False
    await sampled.record_run(ctx, run, event.completed_at, event.responses_sha256, gateway, rounds)
    return True
