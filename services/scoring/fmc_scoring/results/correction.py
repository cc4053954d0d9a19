"""A re-evaluation's evidence: the version in force's snapshot, with only what the accepted
objection concerns taken afresh, and a record of every change and why.

What each concern corrects (docs/scoring.md, "Corrections"):

* ``benchmark-suite``: every team's runs of the stage are graded again from their stored responses
  under each suite's answer-key revision in force (errata apply to every team alike);
* ``expert-panel``: the panel's scores as amended (amendments recorded after the cut-off included);
* ``originality``: the latest completed originality check of each team;
* ``process``: all of the above, and the arena from the votes that count now (exclusions applied).

Every part not concerned is carried over from the version in force unchanged, figures and ids. The
cut-off stays the one that version applied, so nothing recorded since ever enters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fmc_common.events.grievance import ReEvaluationConcern, ReEvaluationRequested
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.grading import service as grading
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.results import repository
from fmc_scoring.results.detail import EvidenceChange, ResultInputs, TeamDetail, TeamInputs
from fmc_scoring.results.evidence import (
    Cutoff,
    StageEvidence,
    gather,
    initial_cutoff,
    snapshot_of,
    team_evidence,
)
from fmc_scoring.results.models import StageResult
from fmc_scoring.results.originality_gate import OriginalityVerdicts

BENCHMARK, EXPERT, USER, ORIGINALITY = "benchmark", "expert", "user", "originality"
ALL_PARTS = frozenset({BENCHMARK, EXPERT, USER, ORIGINALITY})
PARTS: dict[ReEvaluationConcern, frozenset[str]] = {
    ReEvaluationConcern.BENCHMARK_SUITE: frozenset({BENCHMARK}),
    ReEvaluationConcern.EXPERT_PANEL: frozenset({EXPERT}),
    ReEvaluationConcern.ORIGINALITY: frozenset({ORIGINALITY}),
    ReEvaluationConcern.PROCESS: ALL_PARTS,
}


def parts_of(concerns: Iterable[ReEvaluationConcern]) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    for concern in concerns:
        found |= PARTS[concern]
    return found


def _benchmark(inputs: TeamInputs) -> dict[str, Any]:
    return {
        name: {
            "run_id": str(f.run_id),
            "responses_sha256": f.responses_sha256,
            "key_revision": f.key_revision,
            "accuracy": f.accuracy,
        }
        for name, f in sorted(inputs.suites.items())
    }


def _expert(inputs: TeamInputs) -> dict[str, Any]:
    e = inputs.expert
    if e is None:
        return {}
    return {
        "value": e.value,
        "score_ids": sorted(str(i) for i in e.score_ids),
        "dropped_score_ids": sorted(str(i) for i in e.dropped_score_ids),
        "amendment_ids": sorted(str(i) for i in e.amendment_ids),
    }


def _user(inputs: TeamInputs) -> dict[str, Any]:
    u = inputs.user
    return {} if u is None else {"win_rate": u.win_rate, "rating": u.rating, "votes": u.votes}


def _originality(inputs: TeamInputs) -> dict[str, Any]:
    o = inputs.originality
    return {"check_id": None if o.check_id is None else str(o.check_id), "verdict": o.verdict}


VIEWS = {BENCHMARK: _benchmark, EXPERT: _expert, USER: _user, ORIGINALITY: _originality}


def merge_parts(base: TeamInputs, fresh: TeamInputs, parts: frozenset[str]) -> TeamInputs:
    return TeamInputs(
        suites=fresh.suites if BENCHMARK in parts else base.suites,
        expert=fresh.expert if EXPERT in parts else base.expert,
        user=fresh.user if USER in parts else base.user,
        originality=fresh.originality if ORIGINALITY in parts else base.originality,
    )


async def corrected_evidence(
    ctx: ScoringCtx,
    event: ReEvaluationRequested,
    base: StageResult | None,
    verdicts: OriginalityVerdicts,
    arena_rounds: int,
    grading_rounds: int,
) -> StageEvidence:
    """The evidence of the re-evaluation ``event`` orders, starting from ``base`` (the version in
    force; None: nothing published, so everything is read afresh)."""
    parts = parts_of(event.concerns) if base is not None else ALL_PARTS
    criteria = await criteria_service.get(ctx.session, event.stage_id)
    base_inputs = None if base is None else ResultInputs.model_validate(base.inputs)
    if base_inputs is not None and base_inputs.evidence is not None:
        cutoff = Cutoff(base_inputs.evidence.cutoff, base_inputs.evidence.cutoff_source)
    elif base is not None:
        cutoff = Cutoff(base.proposed_at, "proposal")  # a version from before snapshots existed
    else:
        cutoff = initial_cutoff(criteria, ctx.clock.now())
    if BENCHMARK in parts:
        # Errata apply to every team alike: every graded run of the stage, from its stored responses.
        for run in await planning_repository.runs_of_stage(ctx.session, event.stage_id):
            await grading.regrade(ctx, run, grading_rounds)
    fresh = await gather(
        ctx.session, event.stage_id, criteria, verdicts, arena_rounds, cutoff, late_amendments=True
    )
    if base is None or base_inputs is None:
        return fresh
    before = {
        row.team_id: TeamDetail.model_validate(row.detail).inputs
        for row in await repository.team_rows(ctx.session, base.id)
    }
    merged = {
        team: merge_parts(before[team], inputs, parts) if team in before else inputs
        for team, inputs in fresh.inputs.items()
    }
    why = {
        "concerns": [c.value for c in event.concerns],
        "cause_id": event.request_id,
        "reason": event.reason,
    }
    changes = [
        EvidenceChange(
            part=part, team_id=team, before=VIEWS[part](before[team]), after=VIEWS[part](now), **why
        )
        for team, now in sorted(merged.items(), key=lambda p: str(p[0]))
        if team in before
        for part in sorted(parts)
        if VIEWS[part](before[team]) != VIEWS[part](now)
    ]
    old = base_inputs.evidence
    arena_ref = fresh.snapshot.arena if USER in parts or old is None else old.arena
    if old is not None and arena_ref != old.arena:
        changes.append(
            EvidenceChange(
                part="arena",
                team_id=None,
                before=old.arena.model_dump(mode="json"),
                after=arena_ref.model_dump(mode="json"),
                **why,
            )
        )
    runs_late = (
        fresh.snapshot.runs_out_of_window if BENCHMARK in parts or old is None else old.runs_out_of_window
    )
    scores_late = (
        fresh.snapshot.expert_scores_out_of_window
        if EXPERT in parts or old is None
        else old.expert_scores_out_of_window
    )
    teams = list(fresh.inputs)
    return StageEvidence(
        teams=[team_evidence(team, merged[team]) for team in teams],
        inputs=merged,
        arena=fresh.arena if USER in parts else base_inputs.arena,
        snapshot=snapshot_of(cutoff, merged, arena_ref, runs_late, scores_late),
        based_on_version=base.version,
        concerns=[c.value for c in event.concerns],
        changes=changes,
    )
