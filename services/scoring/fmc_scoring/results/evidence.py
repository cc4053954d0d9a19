"""Gathering a stage's evidence for the decision, with links to every input behind every number."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.arena import service as arena_service
from fmc_scoring.arena.standings import Standing, Standings
from fmc_scoring.criteria.service import Criteria, label
from fmc_scoring.experts import service as experts_service
from fmc_scoring.experts.aggregate import PanelScore
from fmc_scoring.grading import repository as grading_repository
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.results.decision import Rules, SuiteRule, TeamEvidence
from fmc_scoring.results.detail import ExpertInput, OriginalityInput, SuiteInput, TeamInputs, UserInput
from fmc_scoring.results.originality_gate import GateVerdict, OriginalityVerdicts
from fmc_scoring.values import Part


@dataclass(frozen=True)
class StageEvidence:
    teams: list[TeamEvidence]
    inputs: dict[uuid.UUID, TeamInputs]
    arena: Standings


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
    )


async def stage_teams(session: AsyncSession, stage_id: uuid.UUID) -> list[uuid.UUID]:
    """The teams evaluated in the stage: those whose submission was frozen when evaluation started."""
    return [s.team_id for s in await planning_repository.submissions(session, stage_id)]


async def _suites(
    session: AsyncSession, stage_id: uuid.UUID, criteria: Criteria
) -> dict[uuid.UUID, dict[str, SuiteInput]]:
    wanted = {suite.id: suite for _, suite in criteria.suites}
    found: dict[uuid.UUID, dict[str, SuiteInput]] = {}
    for grade, run in await grading_repository.grades_of_stage(session, stage_id):
        suite = wanted.get(run.suite_id)
        if suite is None:
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
        )
    return found


async def gather(
    session: AsyncSession,
    stage_id: uuid.UUID,
    criteria: Criteria,
    verdicts: OriginalityVerdicts,
    arena_rounds: int,
) -> StageEvidence:
    teams = await stage_teams(session, stage_id)
    suites = await _suites(session, stage_id, criteria)
    panel = await experts_service.panel_scores(session, stage_id)
    arena = await arena_service.standings_of(session, stage_id, arena_rounds)
    gates = await verdicts.verdicts(session, stage_id, teams)
    evidence, inputs = [], {}
    for team in teams:
        verdict: GateVerdict = gates[team]
        standing = arena.teams.get(team)
        score = panel.get(team)
        evidence.append(
            TeamEvidence(
                team_id=team,
                originality=verdict.state,
                suite_accuracy={name: figure.accuracy for name, figure in suites.get(team, {}).items()},
                expert=score.value if score else None,
                user_win_rate=standing.win_rate if standing else None,
            )
        )
        inputs[team] = TeamInputs(
            suites=suites.get(team, {}),
            expert=None if score is None else _panel_inputs(score),
            user=None if standing is None else _standing_inputs(standing, arena),
            originality=OriginalityInput(check_id=verdict.check_id, verdict=verdict.verdict),
        )
    return StageEvidence(evidence, inputs, arena)


def _panel_inputs(score: PanelScore) -> ExpertInput:
    return ExpertInput(
        value=score.value,
        per_criterion={criterion: value for criterion, value in score.per_criterion.items()},
        score_ids=[uuid.UUID(s) for s in score.used],
        dropped_score_ids=[uuid.UUID(s) for s in score.dropped],
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
