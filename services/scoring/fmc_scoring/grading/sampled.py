"""Runs graded by pass@k over n samples: the planned run is sample 0; planning asked for samples 1 to
n-1 as further gateway runs (``planning.models.SampleRun``, each with its own seed). Each completion
is recorded; once the planned run and every sample completed, all the samples' responses are read
and the run is graded (docs/scoring.md, "Executed code"). A failed sample fails the planned run.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.deps import ScoringCtx
from fmc_scoring.grading import service as grading
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.grading.models import RunGrade
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.planning.models import PlannedRun, RunStatus, SampleRun


async def sample_run_to_read(session: AsyncSession, run_id: uuid.UUID) -> SampleRun | None:
    """The sample run a gateway event is about, while it waits for its responses; else None."""
    sample_run = await planning_repository.sample_run(session, run_id)
    return sample_run if sample_run is not None and sample_run.status == RunStatus.REQUESTED else None


async def sampled(session: AsyncSession, run: PlannedRun) -> bool:
    return bool(await planning_repository.sample_runs(session, run.id))


async def record_run(
    ctx: ScoringCtx,
    run: PlannedRun,
    completed_at: datetime,
    responses_sha256: str,
    gateway: GatewayClient,
    rounds: int,
) -> RunGrade | None:
    """The planned run (sample 0) completed: graded if every other sample has too. A run already
    failed by one of its samples stays failed."""
    if run.status == RunStatus.FAILED:
        return None
    run.status = RunStatus.COMPLETED
    run.completed_at = completed_at
    run.responses_sha256 = responses_sha256
    return await grade_when_sampled(ctx, run, gateway, rounds)


async def record_sample(
    ctx: ScoringCtx,
    sample_run: SampleRun,
    completed_at: datetime,
    responses_sha256: str,
    gateway: GatewayClient,
    rounds: int,
) -> RunGrade | None:
    sample_run.status = RunStatus.COMPLETED
    sample_run.completed_at = completed_at
    sample_run.responses_sha256 = responses_sha256
    run = await _locked_run(ctx.session, sample_run)
    if run is None:
        return None
    return await grade_when_sampled(ctx, run, gateway, rounds)


async def grade_when_sampled(
    ctx: ScoringCtx, run: PlannedRun, gateway: GatewayClient, rounds: int
) -> RunGrade | None:
    """Grade from every sample's responses once all completed (None while one is outstanding)."""
    samples = await planning_repository.sample_runs(ctx.session, run.id)
    if run.status != RunStatus.COMPLETED or any(s.status != RunStatus.COMPLETED for s in samples):
        return None
    assert run.responses_sha256 is not None  # set with the status
    responses = await gateway.responses(run.id, run.responses_sha256)
    extra = []
    for sample in samples:
        assert sample.responses_sha256 is not None  # set with the status
        extra.append(await gateway.responses(sample.id, sample.responses_sha256))
    return await grading.grade_run(ctx, run, responses, run.responses_sha256, rounds, extra)


async def record_failure(
    session: AsyncSession, sample_run: SampleRun, failed_at: datetime, reason: str
) -> None:
    """A sample's run failed: the planned run cannot be graded by pass@k; it is marked failed."""
    sample_run.status = RunStatus.FAILED
    sample_run.completed_at = failed_at
    sample_run.failure_reason = reason
    run = await _locked_run(session, sample_run)
    if run is not None:
        run.status = RunStatus.FAILED
        run.failure_code = "sample-run-failed"
        run.failure_reason = f"sample {sample_run.sample}: {reason}"[:2000]
        run.completed_at = run.completed_at or failed_at


async def _locked_run(session: AsyncSession, sample_run: SampleRun) -> PlannedRun | None:
    """The planned run, locked until the transaction ends: two samples completing at once (their
    events are keyed by their own run ids) take turns, and the second sees the first's completion."""
    run = await session.get(PlannedRun, sample_run.team_run_id, with_for_update=True, populate_existing=True)
    return None if run is None or run.status in (RunStatus.GRADED, RunStatus.FAILED) else run
