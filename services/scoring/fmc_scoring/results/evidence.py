"""Gathering a stage's evidence for the decision, with links to every input behind every number.

Only evidence recorded at or before the stage's evidence cut-off counts (runs by their completion,
expert scores by when they were given, arena votes by when they were cast); later records are kept
and shown out of window. Votes an operator excluded never count. What a version counted is pinned
in its ``EvidenceSnapshot`` (ids, counts, hashes), from which a re-evaluation starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import as_utc
from fmc_scoring.arena import service as arena_service
from fmc_scoring.arena.standings import Standing, Standings
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.criteria.service import Criteria, label
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.experts import repository as experts_repository
from fmc_scoring.experts import service as experts_service
from fmc_scoring.grading import repository as grading_repository
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.results.decision import Rules, SuiteRule, TeamEvidence
from fmc_scoring.results.detail import (
    ArenaRef,
    ArenaSummary,
    CutoffSource,
    EvidenceChange,
    EvidenceSnapshot,
    ExpertInput,
    GradeRef,
    OriginalityInput,
    ResultInputs,
    SuiteInput,
    TeamInputs,
    UserInput,
)
from fmc_scoring.results.models import StageResult
from fmc_scoring.results.originality_gate import OriginalityVerdicts, gate_state
from fmc_scoring.values import Part


@dataclass(frozen=True)
class Cutoff:
    """The cut-off a gathering applies, and where it comes from (see ``EvidenceSnapshot``)."""

    at: datetime
    source: CutoffSource


@dataclass(frozen=True)
class StageEvidence:
    teams: list[TeamEvidence]
    inputs: dict[uuid.UUID, TeamInputs]
    arena: ArenaSummary
    snapshot: EvidenceSnapshot
    based_on_version: int | None = None
    concerns: list[str] = field(default_factory=list)
    changes: list[EvidenceChange] = field(default_factory=list)

    def record(self, criteria_revision: int) -> ResultInputs:
        """What the version stores as its inputs."""
        return ResultInputs(
            criteria_revision=criteria_revision,
            arena=self.arena,
            evidence=self.snapshot,
            based_on_version=self.based_on_version,
            concerns=self.concerns,
            changes=self.changes,
        )


def rules(criteria: Criteria) -> Rules:
    """The decision's view of the criteria: suites by key@version."""
    row = criteria.row
    return Rules(
        suites={
            label(suite): SuiteRule(weight=link.weight, min_accuracy=link.min_accuracy)
            for link, suite in criteria.suites
        },
        part_weights={
            Part.BENCHMARK: row.weight_benchmark,
            Part.EXPERT: row.weight_expert,
            Part.USER: row.weight_user,
        },
        advancing=row.advancing,
        overall_threshold=row.overall_threshold,
        tie_break=tuple(Part(p) for p in row.tie_break),
        arena_min_votes=row.arena_min_votes,
    )


def initial_cutoff(criteria: Criteria, now: datetime) -> Cutoff:
    """The cut-off of a version computed from the current evidence: the stage's (stated, or fixed
    by a publication) if it has passed; otherwise now, the instant the evidence is gathered."""
    stated = criteria.row.evidence_cutoff
    if stated is not None and as_utc(stated) <= as_utc(now):
        return Cutoff(as_utc(stated), stated_source(criteria.row.evidence_cutoff_source))
    return Cutoff(as_utc(now), "proposal")


def stated_source(value: str | None) -> CutoffSource:
    return "publication" if value == criteria_service.CUTOFF_PUBLICATION else "criteria"


async def close_evidence(ctx: ScoringCtx, result: StageResult) -> None:
    """On publication: the stage's cut-off becomes the published version's (if none was fixed, or a
    later one was stated), so the evidence of a published result never grows afterwards."""
    inputs = ResultInputs.model_validate(result.inputs)
    at = inputs.evidence.cutoff if inputs.evidence else result.proposed_at
    await criteria_service.fix_cutoff(ctx, result.stage_id, at)


async def stage_teams(session: AsyncSession, stage_id: uuid.UUID) -> list[uuid.UUID]:
    """The teams evaluated in the stage: those whose submission was frozen when evaluation started."""
    return [s.team_id for s in await planning_repository.submissions(session, stage_id)]


async def _suites(
    session: AsyncSession, stage_id: uuid.UUID, criteria: Criteria, cutoff: datetime
) -> tuple[dict[uuid.UUID, dict[str, SuiteInput]], int]:
    wanted = {suite.id: suite for _, suite in criteria.suites}
    found: dict[uuid.UUID, dict[str, SuiteInput]] = {}
    late = 0
    for grade, run in await grading_repository.grades_of_stage(session, stage_id):
        suite = wanted.get(run.suite_id)
        if suite is None:
            continue
        if not criteria_service.in_window(run.completed_at, cutoff):
            late += 1
            continue
        found.setdefault(run.team_id, {})[label(suite)] = SuiteInput(
            suite_id=suite.id,
            suite_key=suite.key,
            suite_version=suite.version,
            run_id=run.id,
            accuracy=grade.accuracy,
            ci_low=grade.ci_low,
            ci_high=grade.ci_high,
            items=grade.items,
            errored=grade.errored,
            responses_sha256=grade.responses_sha256,
            key_revision=grade.key_revision,
        )
    return found, late


def team_evidence(team_id: uuid.UUID, inputs: TeamInputs) -> TeamEvidence:
    """The decision's view of a team, from the inputs stored (or about to be) with its row."""
    return TeamEvidence(
        team_id=team_id,
        originality=gate_state(inputs.originality.verdict),
        suite_accuracy={name: figure.accuracy for name, figure in inputs.suites.items()},
        expert=inputs.expert.value if inputs.expert else None,
        user_win_rate=inputs.user.win_rate if inputs.user else None,
        user_votes=inputs.user.votes if inputs.user else 0,
    )


def snapshot_of(
    cutoff: Cutoff,
    inputs: Mapping[uuid.UUID, TeamInputs],
    arena: ArenaRef,
    runs_out_of_window: int,
    expert_scores_out_of_window: int,
) -> EvidenceSnapshot:
    teams = sorted(inputs, key=str)
    return EvidenceSnapshot(
        cutoff=cutoff.at,
        cutoff_source=cutoff.source,
        grades=[
            GradeRef(
                team_id=team,
                suite=name,
                run_id=figure.run_id,
                responses_sha256=figure.responses_sha256,
                key_revision=figure.key_revision,
            )
            for team in teams
            for name, figure in sorted(inputs[team].suites.items())
        ],
        runs_out_of_window=runs_out_of_window,
        expert_score_ids=sorted(
            (i for t in teams if (e := inputs[t].expert) for i in [*e.score_ids, *e.dropped_score_ids]),
            key=str,
        ),
        expert_amendment_ids=sorted(
            (i for t in teams if (e := inputs[t].expert) for i in e.amendment_ids), key=str
        ),
        expert_scores_out_of_window=expert_scores_out_of_window,
        arena=arena,
        originality_check_ids=sorted(
            (c for t in teams if (c := inputs[t].originality.check_id) is not None), key=str
        ),
    )


async def gather(
    session: AsyncSession,
    stage_id: uuid.UUID,
    criteria: Criteria,
    verdicts: OriginalityVerdicts,
    arena_rounds: int,
    cutoff: Cutoff,
    *,
    late_amendments: bool = False,
) -> StageEvidence:
    """The stage's evidence within the cut-off. ``late_amendments``: expert-score amendments
    recorded after the cut-off apply too (a re-evaluation on the expert panel or the process)."""
    teams = await stage_teams(session, stage_id)
    suites, runs_late = await _suites(session, stage_id, criteria, cutoff.at)
    panel = await experts_service.panel_evidence(
        session, stage_id, cutoff.at, late_amendments=late_amendments
    )
    scores_late = sum(
        1
        for s in await experts_repository.scores(session, stage_id)
        if not criteria_service.in_window(s.submitted_at, cutoff.at)
    )
    arena = await arena_service.arena_evidence(session, stage_id, arena_rounds, cutoff.at)
    gates = await verdicts.verdicts(session, stage_id, teams)
    inputs = {}
    for team in teams:
        verdict = gates[team]
        standing = arena.standings.teams.get(team)
        found = panel.get(team)
        inputs[team] = TeamInputs(
            suites=suites.get(team, {}),
            expert=None if found is None else _panel_inputs(found),
            user=None if standing is None else _standing_inputs(standing, arena.standings),
            originality=OriginalityInput(check_id=verdict.check_id, verdict=verdict.verdict),
        )
    standings = arena.standings
    arena_ref = ArenaRef(
        votes=len(arena.vote_ids),
        votes_sha256=arena_service.votes_sha256(arena.vote_ids),
        out_of_window=arena.out_of_window,
        excluded=arena.excluded,
    )
    return StageEvidence(
        teams=[team_evidence(team, inputs[team]) for team in teams],
        inputs=inputs,
        arena=ArenaSummary(
            votes=standings.votes,
            rounds=standings.rounds,
            seed=standings.seed,
            converged=standings.converged,
            prior_sd=standings.prior_sd,
            groups=standings.groups,
        ),
        snapshot=snapshot_of(cutoff, inputs, arena_ref, runs_late, scores_late),
    )


def _panel_inputs(found: experts_service.PanelEvidence) -> ExpertInput:
    score = found.score
    return ExpertInput(
        value=score.value,
        per_criterion={criterion: value for criterion, value in score.per_criterion.items()},
        score_ids=[uuid.UUID(s) for s in score.used],
        dropped_score_ids=[uuid.UUID(s) for s in score.dropped],
        amendment_ids=list(found.amendment_ids),
    )


def _standing_inputs(standing: Standing, arena: Standings) -> UserInput:
    return UserInput(
        rating=standing.rating,
        lower=standing.lower,
        upper=standing.upper,
        arena_rank=standing.rank,
        win_rate=standing.win_rate,
        votes=standing.votes,
        stage_votes=arena.votes,
        bootstrap_rounds=arena.rounds,
        converged=arena.converged,
    )
