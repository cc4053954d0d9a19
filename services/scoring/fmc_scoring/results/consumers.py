"""Kafka handlers: grievance's re-evaluation requests and closed windows (thin adapters)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.grievance import GrievanceWindowClosed, ReEvaluationRequested
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.context import context_for, service_actor
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.results import lifecycle
from fmc_scoring.results.originality_gate import OriginalityVerdicts
from fmc_scoring.settings import ScoringSettings


def consumer_spec(
    runtime: ServiceRuntime, verdicts: OriginalityVerdicts, arena_rounds: int, grading_rounds: int
) -> ConsumerSpec:
    def ctx_of(session: AsyncSession) -> ScoringCtx:
        return context_for(runtime, session, service_actor("grievance"), ScoringSettings)

    async def on_re_evaluation(
        session: AsyncSession, envelope: Envelope, event: ReEvaluationRequested
    ) -> None:
        ctx = ctx_of(session)
        if await lifecycle.refuse_re_evaluation_of_final_stage(ctx, event):
            return  # final means final: refused and audited, not retried
        await lifecycle.re_evaluate(ctx, event, verdicts, arena_rounds, grading_rounds)

    async def on_window_closed(
        session: AsyncSession, envelope: Envelope, event: GrievanceWindowClosed
    ) -> None:
        await lifecycle.finalize(ctx_of(session), event)

    handlers: dict[type, Handler] = {
        ReEvaluationRequested: on_re_evaluation,
        GrievanceWindowClosed: on_window_closed,
    }
    return ConsumerSpec(name="scoring.results", topics=[Topic.GRIEVANCE], handlers=handlers)
