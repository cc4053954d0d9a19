"""What each accepted objection's concern lets a re-evaluation take afresh (docs/scoring.md)."""

from __future__ import annotations

import uuid

from fmc_common.events.grievance import ReEvaluationConcern
from fmc_scoring.results.correction import ALL_PARTS, merge_parts, parts_of
from fmc_scoring.results.detail import OriginalityInput, SuiteInput, TeamInputs, UserInput


def inputs(accuracy: float, win_rate: float) -> TeamInputs:
    return TeamInputs(
        suites={
            "ko@1": SuiteInput(
                suite_id=uuid.UUID(int=1),
                suite_key="ko",
                suite_version="1",
                run_id=uuid.UUID(int=2),
                accuracy=accuracy,
                ci_low=0.0,
                ci_high=1.0,
                items=10,
                errored=0,
                responses_sha256="0" * 64,
            )
        },
        user=UserInput(
            rating=0.0,
            lower=0.0,
            upper=0.0,
            arena_rank=1,
            win_rate=win_rate,
            votes=3,
            stage_votes=3,
            bootstrap_rounds=10,
            converged=True,
        ),
        originality=OriginalityInput(),
    )


class TestConcerns:
    def test_each_concern_corrects_its_own_part_and_the_process_all_of_them(self) -> None:
        assert parts_of([ReEvaluationConcern.BENCHMARK_SUITE]) == {"benchmark"}
        assert parts_of([ReEvaluationConcern.EXPERT_PANEL]) == {"expert"}
        assert parts_of([ReEvaluationConcern.ORIGINALITY]) == {"originality"}
        assert (
            parts_of([ReEvaluationConcern.PROCESS])
            == ALL_PARTS
            == {"benchmark", "expert", "user", "originality"}
        )
        assert parts_of([ReEvaluationConcern.BENCHMARK_SUITE, ReEvaluationConcern.ORIGINALITY]) == {
            "benchmark",
            "originality",
        }

    def test_every_concern_of_the_contract_is_mapped(self) -> None:
        assert set(parts_of(list(ReEvaluationConcern))) == ALL_PARTS

    def test_a_part_not_concerned_is_carried_over_from_the_version_in_force(self) -> None:
        before, fresh = inputs(0.5, 0.4), inputs(0.7, 0.9)
        merged = merge_parts(before, fresh, frozenset({"benchmark"}))
        assert merged.suites["ko@1"].accuracy == 0.7
        assert merged.user is not None
        assert merged.user.win_rate == 0.4
