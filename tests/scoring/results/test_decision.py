"""The decision rule: gates first, then composite and ranking, then the proposed result and vacancies."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_common.events.vocabulary import Outcome, Reason
from fmc_scoring.results.decision import (
    GateState,
    Rules,
    SuiteRule,
    TeamEvidence,
    lottery,
    propose,
)
from fmc_scoring.values import Part

STAGE = uuid.UUID("00000000-0000-4000-8000-000000000001")
RULES = Rules(
    suites={"ko-mcq": SuiteRule(weight=2.0, min_accuracy=0.3), "en-exact": SuiteRule(weight=1.0)},
    part_weights={Part.BENCHMARK: 0.5, Part.EXPERT: 0.3, Part.USER: 0.2},
    advancing=4,
    overall_threshold=0.4,
)


def team(
    ko: float,
    en: float,
    *,
    originality: GateState = GateState.PASS,
    expert: float | None = 70.0,
    user: float | None = 0.5,
) -> TeamEvidence:
    return TeamEvidence(
        team_id=uuid.uuid4(),
        originality=originality,
        suite_accuracy={"ko-mcq": ko, "en-exact": en},
        expert=expert,
        user_win_rate=user,
    )


class TestFiveTeamStage:
    def test_one_below_threshold_and_one_reused_leave_three_advancing_and_one_vacancy(self) -> None:
        strong, good, fair = team(0.8, 0.7), team(0.7, 0.6), team(0.6, 0.5, expert=60.0)
        below = team(0.35, 0.3, expert=95.0, user=0.9)  # brilliant experts cannot lift the gate
        reused = team(0.9, 0.9, originality=GateState.FAIL, expert=90.0)
        proposal = propose(STAGE, RULES, [strong, good, fair, below, reused])
        by_team = {d.team_id: d for d in proposal.teams}

        assert {t.team_id for t in (strong, good, fair)} == {
            d.team_id for d in proposal.teams if d.outcome == Outcome.ADVANCE
        }
        assert (by_team[below.team_id].outcome, by_team[below.team_id].reason) == (
            Outcome.ELIMINATE,
            Reason.BENCHMARK_THRESHOLD,
        )
        assert (by_team[reused.team_id].outcome, by_team[reused.team_id].reason) == (
            Outcome.ELIMINATE,
            Reason.ORIGINALITY,
        )
        assert (proposal.advancing_planned, proposal.advancing, proposal.vacancies) == (4, 3, 1)
        assert proposal.blocking == []
        assert [by_team[t.team_id].rank for t in (strong, good, fair)] == [1, 2, 3]
        assert by_team[below.team_id].rank is None

    def test_with_enough_teams_the_last_ones_are_eliminated_for_rank(self) -> None:
        teams = [team(0.5 + i / 20, 0.5) for i in range(6)]
        proposal = propose(STAGE, RULES, teams)
        eliminated = [d for d in proposal.teams if d.outcome == Outcome.ELIMINATE]
        assert {d.team_id for d in eliminated} == {teams[0].team_id, teams[1].team_id}
        assert all(d.reason == Reason.RANK for d in eliminated)
        assert proposal.vacancies == 0


class TestGates:
    def test_a_suite_below_its_own_minimum_fails_the_threshold_even_with_a_high_overall(self) -> None:
        proposal = propose(STAGE, RULES, [team(0.29, 1.0)])
        decision = proposal.teams[0]
        assert decision.reason == Reason.BENCHMARK_THRESHOLD
        assert decision.failed_suites == ("ko-mcq",)

    def test_failing_both_gates_names_originality_and_keeps_both_states(self) -> None:
        decision = propose(STAGE, RULES, [team(0.1, 0.1, originality=GateState.FAIL)]).teams[0]
        assert decision.reason == Reason.ORIGINALITY
        assert decision.gates == {"originality": GateState.FAIL, "benchmark-threshold": GateState.FAIL}

    def test_a_pending_originality_verdict_blocks_the_result(self) -> None:
        pending = team(0.8, 0.8, originality=GateState.PENDING)
        proposal = propose(STAGE, RULES, [pending, team(0.7, 0.7)])
        assert proposal.teams[[d.team_id for d in proposal.teams].index(pending.team_id)].outcome == (
            Outcome.PENDING
        )
        assert proposal.blocking == [f"{pending.team_id}: gate:originality"]

    def test_a_missing_weighted_part_blocks_the_result(self) -> None:
        proposal = propose(STAGE, RULES, [team(0.8, 0.8, expert=None)])
        assert proposal.blocking == [f"{proposal.teams[0].team_id}: part:expert"]

    def test_a_missing_suite_grade_leaves_the_threshold_pending(self) -> None:
        evidence = TeamEvidence(uuid.uuid4(), GateState.PASS, {"ko-mcq": 0.9}, 70.0, 0.5)
        decision = propose(STAGE, RULES, [evidence]).teams[0]
        assert decision.gates["benchmark-threshold"] == GateState.PENDING
        assert decision.outcome == Outcome.PENDING


class TestComposite:
    def test_parts_are_normalised_weighted_and_summed(self) -> None:
        decision = propose(STAGE, RULES, [team(0.9, 0.6, expert=80.0, user=0.25)]).teams[0]
        benchmark = 100 * (2 * 0.9 + 0.6) / 3
        assert decision.parts[Part.BENCHMARK] == pytest.approx(benchmark)
        assert decision.composite == pytest.approx(0.5 * benchmark + 0.3 * 80 + 0.2 * 25)

    def test_ties_go_to_the_first_tie_break_part_then_to_the_lottery(self) -> None:
        # Same composite: A has the better benchmark, B the better experts.
        a = team(0.8, 0.8, expert=60.0, user=0.5)
        b_benchmark = 80.0 - 0.3 * 20 / 0.5  # lower benchmark, compensated by +20 expert points
        b = TeamEvidence(
            uuid.uuid4(),
            GateState.PASS,
            {"ko-mcq": b_benchmark / 100, "en-exact": b_benchmark / 100},
            80.0,
            0.5,
        )
        rules = Rules(RULES.suites, RULES.part_weights, advancing=1, tie_break=(Part.BENCHMARK,))
        winner = [d for d in propose(STAGE, rules, [a, b]).teams if d.outcome == Outcome.ADVANCE]
        assert [d.team_id for d in winner] == [a.team_id]
        twin_1, twin_2 = team(0.8, 0.8), team(0.8, 0.8)
        first = min((twin_1, twin_2), key=lambda t: lottery(STAGE, t.team_id))
        ranked = {d.team_id: d.rank for d in propose(STAGE, rules, [twin_1, twin_2]).teams}
        assert ranked[first.team_id] == 1

    @given(
        st.lists(
            st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 100), st.floats(0, 1), st.booleans()),
            min_size=1,
            max_size=8,
        ),
        st.randoms(use_true_random=False),
    )
    def test_the_proposal_does_not_depend_on_the_order_of_teams(
        self, rows: list[tuple[float, float, float, float, bool]], shuffler: random.Random
    ) -> None:
        evidence = [
            team(ko, en, expert=expert, user=user, originality=GateState.PASS if ok else GateState.FAIL)
            for ko, en, expert, user, ok in rows
        ]
        shuffled = list(evidence)
        shuffler.shuffle(shuffled)
        assert propose(STAGE, RULES, shuffled) == propose(STAGE, RULES, evidence)

    def test_a_team_listed_twice_is_refused(self) -> None:
        twice = team(0.5, 0.5)
        with pytest.raises(ValueError, match="once"):
            propose(STAGE, RULES, [twice, twice])
