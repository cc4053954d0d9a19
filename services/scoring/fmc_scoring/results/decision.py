"""From a stage's evidence to a proposed result: gates, composite, ranking, vacancies (pure).

1. **Gates**, in this order: originality (the latest verdict of the team's check: ``original``
   passes, ``reused`` fails, ``needs-review`` or no check yet is *pending*), then the benchmark
   threshold (the weighted benchmark accuracy against the overall minimum, each suite's accuracy
   against its own minimum). A failed gate eliminates the team with that gate as the reason; the
   first failed gate is the reason, every gate's state is kept in the detail.
2. **Part scores**, each on 0-100: benchmark = 100 x the suite-weighted accuracy; expert = the
   panel's trimmed mean; user = 100 x the team's expected chance of beating another rated team,
   the team rated at the lower bound of its 95 % interval and the others at their ratings
   (Bradley-Terry under the arena's weak prior: bounded, meaningful with two teams as with twenty,
   and a team is credited only what its votes support: 5 won votes do not make 100).
   While the user part has a weight, every team needs the criteria's minimum of counted arena
   votes (``arena_min_votes``) before a result is proposed: ``short_of_votes`` names those below.
3. **Composite** = the part-weighted sum, over the teams that passed every gate.
4. **Ranking** by composite, then by the tie-break parts in the criteria's order, then by a
   published lottery: sha256 of ``"<stage id>:<team id>"``, smaller first. Anyone can recompute it,
   nobody can choose it.
5. The best ``advancing`` teams advance; the others that passed the gates are eliminated for
   ``rank``. Fewer passing teams than places leave **vacancies**.

A team whose gate is pending, or that lacks a part with a non-zero weight, is *pending*: the
result cannot be approved until it is decided (``blocking`` lists why), and the ranks and
vacancies shown meanwhile are provisional.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from fmc_common.events.vocabulary import Outcome, Reason
from fmc_scoring.values import Part


class GateState(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"


@dataclass(frozen=True)
class SuiteRule:
    weight: float
    min_accuracy: float | None = None


@dataclass(frozen=True)
class Rules:
    """The stage's criteria, as far as the decision needs them."""

    suites: Mapping[str, SuiteRule]
    part_weights: Mapping[Part, float]
    advancing: int
    overall_threshold: float | None = None
    tie_break: Sequence[Part] = (Part.BENCHMARK, Part.EXPERT, Part.USER)
    arena_min_votes: int = 0


@dataclass(frozen=True)
class TeamEvidence:
    team_id: uuid.UUID
    originality: GateState
    suite_accuracy: Mapping[str, float]
    expert: float | None = None
    user_win_rate: float | None = None
    user_votes: int = 0


@dataclass(frozen=True)
class TeamDecision:
    team_id: uuid.UUID
    outcome: Outcome
    reason: Reason | None
    gates: dict[str, GateState]
    benchmark_accuracy: float | None
    parts: dict[Part, float | None]
    composite: float | None
    rank: int | None
    pending: tuple[str, ...] = ()
    failed_suites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    teams: list[TeamDecision]
    advancing_planned: int
    advancing: int
    vacancies: int
    blocking: list[str] = field(default_factory=list)


def weighted_accuracy(rules: Rules, accuracy: Mapping[str, float]) -> float | None:
    """The suite-weighted benchmark accuracy; None while a weighted suite has no grade yet."""
    weighted = [(rule.weight, accuracy.get(suite)) for suite, rule in sorted(rules.suites.items())]
    if any(value is None for weight, value in weighted if weight > 0):
        return None
    total = math.fsum(weight for weight, _ in weighted)
    if total <= 0:
        return None
    return math.fsum(weight * (value or 0.0) for weight, value in weighted) / total


def short_of_votes(rules: Rules, evidence: Sequence[TeamEvidence]) -> list[TeamEvidence]:
    """The teams with fewer counted arena votes than the criteria's minimum, while the user part
    has a weight (without one, the arena decides nothing and needs no minimum)."""
    if rules.part_weights.get(Part.USER, 0.0) <= 0 or rules.arena_min_votes <= 0:
        return []
    return sorted((t for t in evidence if t.user_votes < rules.arena_min_votes), key=lambda t: str(t.team_id))


def _threshold(rules: Rules, team: TeamEvidence, overall: float | None) -> tuple[GateState, tuple[str, ...]]:
    missing = [suite for suite in sorted(rules.suites) if suite not in team.suite_accuracy]
    if missing:
        return GateState.PENDING, ()
    failed = tuple(
        suite
        for suite, rule in sorted(rules.suites.items())
        if rule.min_accuracy is not None and team.suite_accuracy[suite] < rule.min_accuracy
    )
    below_overall = (
        rules.overall_threshold is not None and overall is not None and overall < rules.overall_threshold
    )
    return (GateState.FAIL if failed or below_overall else GateState.PASS), failed


def _parts(rules: Rules, team: TeamEvidence, overall: float | None) -> dict[Part, float | None]:
    return {
        Part.BENCHMARK: None if overall is None else 100.0 * overall,
        Part.EXPERT: team.expert,
        Part.USER: None if team.user_win_rate is None else 100.0 * team.user_win_rate,
    }


def _composite(rules: Rules, parts: Mapping[Part, float | None]) -> float | None:
    used = [(w, parts[p]) for p, w in sorted(rules.part_weights.items()) if w > 0]
    if any(value is None for _, value in used):
        return None
    total = math.fsum(w for w, _ in used)
    return math.fsum(w * (value or 0.0) for w, value in used) / total if total > 0 else None


def lottery(stage_id: uuid.UUID, team_id: uuid.UUID) -> str:
    """The last tie-break: reproducible by anyone, chosen by no one."""
    return hashlib.sha256(f"{stage_id}:{team_id}".encode()).hexdigest()


def _assess(rules: Rules, team: TeamEvidence) -> TeamDecision:
    overall = weighted_accuracy(rules, team.suite_accuracy)
    threshold, failed_suites = _threshold(rules, team, overall)
    gates = {"originality": team.originality, "benchmark-threshold": threshold}
    parts = _parts(rules, team, overall)
    reason = None
    if team.originality == GateState.FAIL:
        reason = Reason.ORIGINALITY
    elif threshold == GateState.FAIL:
        reason = Reason.BENCHMARK_THRESHOLD
    composite = _composite(rules, parts)
    pending = [f"gate:{name}" for name, state in gates.items() if state == GateState.PENDING]
    if reason is None:
        pending += [f"part:{p}" for p, w in sorted(rules.part_weights.items()) if w > 0 and parts[p] is None]
    outcome = Outcome.ELIMINATE if reason else (Outcome.PENDING if pending else Outcome.ADVANCE)
    return TeamDecision(
        team_id=team.team_id,
        outcome=outcome,
        reason=reason,
        gates=gates,
        benchmark_accuracy=overall,
        parts=parts,
        composite=composite,
        rank=None,
        pending=tuple(pending) if reason is None else (),
        failed_suites=failed_suites,
    )


def _ranking_key(stage_id: uuid.UUID, rules: Rules, decision: TeamDecision) -> tuple[object, ...]:
    parts = [-(decision.parts[p] or 0.0) for p in rules.tie_break]
    return (-(decision.composite or 0.0), *parts, lottery(stage_id, decision.team_id))


def propose(stage_id: uuid.UUID, rules: Rules, evidence: Sequence[TeamEvidence]) -> Proposal:
    """The proposed result for every team; see the module docstring for the rule."""
    if len({team.team_id for team in evidence}) != len(evidence):
        raise ValueError("each team may appear once")
    assessed = [_assess(rules, team) for team in evidence]
    contenders = sorted(
        (d for d in assessed if d.outcome == Outcome.ADVANCE), key=lambda d: _ranking_key(stage_id, rules, d)
    )
    ranked: dict[uuid.UUID, TeamDecision] = {}
    for position, decision in enumerate(contenders, start=1):
        advances = position <= rules.advancing
        ranked[decision.team_id] = TeamDecision(
            **{
                **decision.__dict__,
                "rank": position,
                "outcome": Outcome.ADVANCE if advances else Outcome.ELIMINATE,
                "reason": None if advances else Reason.RANK,
            }
        )
    teams = sorted((ranked.get(d.team_id, d) for d in assessed), key=lambda d: str(d.team_id))
    advancing = sum(1 for d in teams if d.outcome == Outcome.ADVANCE)
    blocking = [f"{d.team_id}: {item}" for d in teams for item in d.pending]
    return Proposal(
        teams=teams,
        advancing_planned=rules.advancing,
        advancing=advancing,
        vacancies=max(0, rules.advancing - advancing),
        blocking=blocking,
    )
