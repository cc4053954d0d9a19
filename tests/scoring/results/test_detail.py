"""A result row's stored detail reads back, including rows written before a field was added."""

from __future__ import annotations

import uuid

from fmc_scoring.results.detail import TeamInputs


def figures(**extra: object) -> dict[str, object]:
    return {
        "suite_id": str(uuid.uuid4()),
        "run_id": str(uuid.uuid4()),
        "accuracy": 0.5,
        "ci_low": 0.4,
        "ci_high": 0.6,
        "items": 10,
        "errored": 0,
        "responses_sha256": "ab" * 32,
        **extra,
    }


class TestStoredSuiteFigures:
    def test_a_row_from_before_suite_key_existed_takes_it_from_its_label(self) -> None:
        inputs = TeamInputs.model_validate({"suites": {"kmmlu@2025.1": figures()}})
        suite = inputs.suites["kmmlu@2025.1"]
        assert (suite.suite_key, suite.suite_version) == ("kmmlu", "2025.1")

    def test_a_current_row_keeps_what_it_says(self) -> None:
        stored = {"suites": {"x@1": figures(suite_key="ko-math", suite_version="3")}}
        suite = TeamInputs.model_validate(stored).suites["x@1"]
        assert (suite.suite_key, suite.suite_version) == ("ko-math", "3")

    def test_what_is_written_reads_back_the_same(self) -> None:
        inputs = TeamInputs.model_validate({"suites": {"kmmlu@1": figures()}})
        again = TeamInputs.model_validate(inputs.model_dump(mode="json"))
        assert again == inputs
