"""Stage criteria: set (with a revision) until evaluation starts, then frozen for good."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import as_utc
from fmc_common.errors import Conflict, InvalidInput, NotFound
from fmc_scoring.audit import service as audit
from fmc_scoring.criteria.models import StageCriteria, StageSuite
from fmc_scoring.criteria.schemas import CriteriaIn
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.suites import service as suites
from fmc_scoring.suites.models import Suite
from fmc_scoring.values import ChoiceScoring, ItemKind, Normalisation

CUTOFF_STATED = "criteria"
CUTOFF_PUBLICATION = "publication"


class CriteriaFrozen(Conflict):
    code = "criteria-frozen"
    title = "The stage's criteria are fixed: its evaluation has started"


class ScoringNotApplicable(InvalidInput):
    code = "scoring-not-applicable"
    title = "This scoring does not apply to the suite"


class CriteriaNotFound(NotFound):
    code = "criteria-not-found"
    title = "No criteria for this stage"


@dataclass(frozen=True)
class Criteria:
    row: StageCriteria
    suites: list[tuple[StageSuite, Suite]]


def label(suite: Suite) -> str:
    return f"{suite.key}@{suite.version}"


async def load(session: AsyncSession, stage_id: uuid.UUID) -> Criteria | None:
    row = await session.get(StageCriteria, stage_id)
    if row is None:
        return None
    links = await session.execute(
        select(StageSuite, Suite)
        .join(Suite, Suite.id == StageSuite.suite_id)
        .where(StageSuite.stage_id == stage_id)
    )
    return Criteria(row, sorted(((link, suite) for link, suite in links.all()), key=lambda p: label(p[1])))


async def get(session: AsyncSession, stage_id: uuid.UUID) -> Criteria:
    found = await load(session, stage_id)
    if found is None:
        raise CriteriaNotFound(f"no criteria were set for stage {stage_id}")
    return found


async def set_criteria(ctx: ScoringCtx, stage_id: uuid.UUID, body: CriteriaIn) -> Criteria:
    """Create or replace; refused with ``criteria-frozen`` once the stage's evaluation started."""
    row = await ctx.session.get(StageCriteria, stage_id)
    # Planning freezes the criteria in the transaction that records the evaluation's start (it
    # cannot start without criteria), so ``frozen_at`` alone tells whether the evaluation started.
    if row is not None and row.frozen_at is not None:
        raise CriteriaFrozen(
            f"the evaluation of stage {stage_id} has started: its criteria can no longer change",
            frozen_at=row.frozen_at.isoformat(),
        )
    for item in body.suites:
        suite = await suites.get_suite(ctx.session, item.suite_id)
        if item.scoring == ChoiceScoring.LOGLIKELIHOOD and suite.kind != ItemKind.MULTIPLE_CHOICE:
            raise ScoringNotApplicable(
                f"suite {label(suite)} is {suite.kind}: "
                "loglikelihood scoring applies to multiple-choice suites"
            )
        if (item.samples > 1 or item.pass_k > 1) and suite.kind != ItemKind.CODE:
            raise ScoringNotApplicable(
                f"suite {label(suite)} is {suite.kind}: samples and pass@k apply to executed-code suites"
            )
    now = ctx.clock.now()
    if row is None:
        row = StageCriteria(stage_id=stage_id, revision=0)
        ctx.session.add(row)
    row.advancing = body.advancing
    row.weight_benchmark = body.part_weights.benchmark
    row.weight_expert = body.part_weights.expert
    row.weight_user = body.part_weights.user
    row.overall_threshold = body.overall_threshold
    row.tie_break = [p.value for p in body.tie_break]
    row.arena_min_votes = body.arena_min_votes
    row.decoding = body.decoding.model_dump()
    row.limits = body.limits.model_dump()
    row.evidence_cutoff = body.evidence_cutoff
    row.evidence_cutoff_source = None if body.evidence_cutoff is None else CUTOFF_STATED
    row.revision += 1
    row.updated_by = ctx.actor.subject
    row.updated_at = now
    await ctx.session.flush()
    await ctx.session.execute(delete(StageSuite).where(StageSuite.stage_id == stage_id))
    for item in body.suites:
        ctx.session.add(
            StageSuite(
                stage_id=stage_id,
                suite_id=item.suite_id,
                weight=item.weight,
                min_accuracy=item.min_accuracy,
                **_scoring_columns(item.scoring, item.normalisation),
                samples=item.samples if item.samples > 1 else None,
                pass_k=item.pass_k if item.pass_k > 1 else None,
            )
        )
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="criteria.set",
        entity_type="stage",
        entity_id=stage_id,
        details={"revision": row.revision, "criteria": body.model_dump(mode="json")},
    )
    return await get(ctx.session, stage_id)


def _scoring_columns(scoring: ChoiceScoring, normalisation: Normalisation | None) -> dict[str, object]:
    """Null for generate (as the rows written before the choice existed); raw by default."""
    if scoring == ChoiceScoring.GENERATE:
        return {"scoring": None, "normalisation": None}
    return {"scoring": scoring, "normalisation": normalisation or Normalisation.RAW}


async def loglikelihood_normalisation(
    session: AsyncSession, stage_id: uuid.UUID, suite_id: uuid.UUID
) -> Normalisation | None:
    """The normalisation when the stage scores the suite by log-likelihood; None when by generation."""
    link = await session.get(StageSuite, (stage_id, suite_id))
    if link is None or link.scoring != ChoiceScoring.LOGLIKELIHOOD:
        return None
    return link.normalisation or Normalisation.RAW


async def sampling(session: AsyncSession, stage_id: uuid.UUID, suite_id: uuid.UUID) -> tuple[int, int]:
    """``(samples per item, k)`` of the stage's suite: ``(1, 1)`` unless the criteria ask for pass@k
    over several samples (executed code)."""
    link = await session.get(StageSuite, (stage_id, suite_id))
    if link is None:
        return 1, 1
    return link.samples or 1, link.pass_k or 1


async def freeze(ctx: ScoringCtx, stage_id: uuid.UUID, at: datetime) -> Criteria:
    """Fix the criteria as the evaluation starts (called by planning); later changes are refused."""
    criteria = await get(ctx.session, stage_id)
    if criteria.row.frozen_at is None:
        criteria.row.frozen_at = at
        await ctx.session.flush()
        await audit.record(
            ctx,
            action="criteria.frozen",
            entity_type="stage",
            entity_id=stage_id,
            details={"revision": criteria.row.revision},
        )
    return criteria


async def cutoff(session: AsyncSession, stage_id: uuid.UUID) -> datetime | None:
    """The stage's evidence cut-off; None while neither stated nor fixed by a publication."""
    row = await session.get(StageCriteria, stage_id)
    return None if row is None else row.evidence_cutoff


def in_window(recorded_at: datetime | None, cut: datetime | None) -> bool:
    """Evidence recorded at or before the cut-off counts; after it, it is kept but out of window.
    A record without a time (never completed) and a stage without a cut-off yet are in window."""
    return recorded_at is None or cut is None or as_utc(recorded_at) <= as_utc(cut)


async def fix_cutoff(ctx: ScoringCtx, stage_id: uuid.UUID, at: datetime) -> None:
    """On publication: a stage without a cut-off, or with a later one stated, gets the instant the
    published version's evidence was gathered as its cut-off (audited), so that a published result's
    evidence never grows. A stated cut-off already passed when the evidence was gathered is kept."""
    row = await ctx.session.get(StageCriteria, stage_id)
    if row is None or (row.evidence_cutoff is not None and as_utc(row.evidence_cutoff) <= as_utc(at)):
        return
    stated = None if row.evidence_cutoff is None else as_utc(row.evidence_cutoff).isoformat()
    row.evidence_cutoff, row.evidence_cutoff_source = at, CUTOFF_PUBLICATION
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="criteria.cutoff-fixed",
        entity_type="stage",
        entity_id=stage_id,
        details={"evidence_cutoff": as_utc(at).isoformat(), "stated": stated, "source": CUTOFF_PUBLICATION},
    )


def suite_ids(criteria: Criteria) -> Sequence[uuid.UUID]:
    return [suite.id for _, suite in criteria.suites]
