"""Executed code, the pure parts: the code found in an answer, pass@k, the sandbox's command line,
and the key of a code item as loaders check it."""

from __future__ import annotations

import json
from itertools import combinations
from math import comb
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.grading.execution.extract import extract_code
from fmc_scoring.grading.execution.passk import pass_at_k
from fmc_scoring.grading.execution.sandbox import Limits, Runtime, bwrap_command
from fmc_scoring.grading.grader import grade
from fmc_scoring.suites.content import content_hash, items_document, prompts_of
from fmc_scoring.suites.loaders import SuiteFormatError, SuiteMeta, load_jsonl
from fmc_scoring.values import AnswerKey, GradableItem, ItemKind

CODE = SuiteMeta("add", "1.0.0", "Add", "en", ItemKind.CODE)
TESTS = "assert add(1, 2) == 3\n"


class TestExtractCode:
    def test_a_python_fence_wins_over_the_prose_and_other_fences(self) -> None:
        answer = "Here:\n```text\nnot this\n```\n```python\ndef add(a, b):\n    return a + b\n```\nDone."
        assert extract_code(answer) == "def add(a, b):\n    return a + b\n"

    def test_an_unmarked_fence_is_taken_when_no_python_fence(self) -> None:
        assert extract_code("```\nx = 1\n```") == "x = 1\n"

    def test_bare_code_is_the_whole_answer(self) -> None:
        assert extract_code("def f():\n    return 1") == "def f():\n    return 1\n"

    def test_prose_without_code_is_no_code(self) -> None:
        assert extract_code("I would add the two numbers together.") is None
        assert extract_code("   ") is None


class TestPassAtK:
    def test_known_values(self) -> None:
        assert pass_at_k(1, 1, 1) == 1.0
        assert pass_at_k(1, 0, 1) == 0.0
        assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
        assert pass_at_k(5, 4, 2) == 1.0  # two draws cannot both miss with one failure
        assert pass_at_k(200, 0, 100) == 0.0

    @given(st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
    def test_equals_the_share_of_k_subsets_with_a_pass(self, nck: tuple[int, int, int]) -> None:
        n, c, k = nck
        samples = [True] * c + [False] * (n - c)
        subsets = list(combinations(samples, k))
        assert pass_at_k(n, c, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))
        assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))

    def test_refuses_impossible_counts(self) -> None:
        with pytest.raises(ValueError, match="pass@k"):
            pass_at_k(3, 4, 1)
        with pytest.raises(ValueError, match="pass@k"):
            pass_at_k(3, 1, 4)


class TestSandboxCommand:
    def test_unshares_everything_binds_the_runtime_read_only_and_only_tmp_is_writable(self) -> None:
        command = bwrap_command(Runtime(binds=("/usr/lib/python3.11",)), Limits(), "pass")
        assert command[0] == "/usr/bin/bwrap"
        for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
            assert flag in command
        bound = [command[i + 1] for i, arg in enumerate(command) if arg in {"--bind", "--ro-bind"}]
        assert "--bind" not in command
        assert "/usr/lib/python3.11" in bound
        assert command[command.index("--tmpfs") + 1] == "/tmp"
        separator = command.index("--")
        assert command[separator - 2 : separator] == ["--remount-ro", "/"]
        assert command[separator + 2 : separator + 4] == ["-I", "-S"]


class TestCodeItems:
    def write(self, path: Path, **key: object) -> Path:
        row = {"item_id": "add", "prompt": "Write add(a, b) in Python.", **key}
        path.write_text(json.dumps(row) + "\n", encoding="utf-8")
        return path

    def test_a_code_item_loads_with_its_tests_and_entry_point(self, tmp_path: Path) -> None:
        suite = load_jsonl(self.write(tmp_path / "s.jsonl", tests=TESTS, entry_point="add"), CODE)
        assert suite.items[0].key == AnswerKey(ItemKind.CODE, tests=TESTS, entry_point="add")

    def test_the_tests_never_reach_the_prompts_document(self, tmp_path: Path) -> None:
        suite = load_jsonl(self.write(tmp_path / "s.jsonl", tests="assert add(2, 2) == 4\n"), CODE)
        assert b"assert" not in items_document("en", prompts_of(suite))

    def test_the_content_hash_covers_the_tests(self, tmp_path: Path) -> None:
        one = load_jsonl(self.write(tmp_path / "a.jsonl", tests=TESTS), CODE)
        two = load_jsonl(self.write(tmp_path / "b.jsonl", tests="assert add(2, 2) == 4\n"), CODE)
        assert content_hash(one.kind, one.items) != content_hash(two.kind, two.items)

    @pytest.mark.parametrize(
        ("key", "message"),
        [
            ({}, "needs its hidden tests"),
            ({"tests": "assert add(1, 2 == 3\n"}, "do not parse as Python"),
            ({"tests": "assert True\n" * 6000}, "more than 64000"),
            ({"tests": TESTS, "entry_point": "add numbers"}, "not a Python function name"),
        ],
    )
    def test_bad_keys_are_refused_with_the_line(
        self, tmp_path: Path, key: dict[str, str], message: str
    ) -> None:
        with pytest.raises(SuiteFormatError, match=f"s.jsonl line 1: .*{message}"):
            load_jsonl(self.write(tmp_path / "s.jsonl", **key), CODE)

    def test_the_text_grader_refuses_a_code_item(self) -> None:
        item = GradableItem("add", AnswerKey(ItemKind.CODE, tests=TESTS))
        with pytest.raises(ValueError, match="graded by running"):
            grade(item, "def add(a, b): return a + b")
