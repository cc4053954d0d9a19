"""Suite content: loaders for the three local layouts, hashes, the prompts document, demo suites."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from fmc_scoring.grading.grader import grade
from fmc_scoring.suites.content import content_hash, items_document, prompts_of
from fmc_scoring.suites.loaders import (
    ColumnMapping,
    SuiteFormatError,
    SuiteMeta,
    load_hf_directory,
    load_jsonl,
    load_lm_eval_task,
)
from fmc_scoring.suites.service import demo_contents
from fmc_scoring.values import ItemKind

MCQ = SuiteMeta("capitals", "1.0.0", "Capitals", "en", ItemKind.MULTIPLE_CHOICE)


def write_jsonl(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


class TestJsonl:
    def test_multiple_choice_answers_by_label_index_or_text(self, tmp_path: Path) -> None:
        path = write_jsonl(
            tmp_path / "s.jsonl",
            [
                {"item_id": "a", "prompt": "Capital of Korea?", "choices": ["Busan", "Seoul"], "answer": "B"},
                {
                    "item_id": "b",
                    "prompt": "Capital of Japan?",
                    "choices": ["Tokyo", "Osaka"],
                    "answer_index": 0,
                },
                {
                    "item_id": "c",
                    "prompt": "Capital of France?",
                    "choices": ["Lyon", "Paris"],
                    "answer": "Paris",
                },
            ],
        )
        suite = load_jsonl(path, MCQ)
        assert [item.key.choice for item in suite.items] == [1, 0, 1]

    def test_a_key_outside_the_choices_is_refused_with_its_line(self, tmp_path: Path) -> None:
        path = write_jsonl(
            tmp_path / "s.jsonl", [{"item_id": "a", "prompt": "?", "choices": ["x", "y"], "answer": "E"}]
        )
        with pytest.raises(SuiteFormatError, match=r"s\.jsonl line 1"):
            load_jsonl(path, MCQ)

    def test_duplicate_item_ids_are_refused(self, tmp_path: Path) -> None:
        row = {"item_id": "a", "prompt": "?", "answer": "x"}
        path = write_jsonl(tmp_path / "s.jsonl", [row, row])
        with pytest.raises(SuiteFormatError, match="twice"):
            load_jsonl(path, SuiteMeta("k", "1", "t", "en", ItemKind.EXACT_MATCH))


class TestLmEvalTask:
    def test_a_multiple_choice_task_with_local_data(self, tmp_path: Path) -> None:
        write_jsonl(
            tmp_path / "test.jsonl",
            [{"id": "q1", "question": "2+2?", "options": ["3", "4", "5"], "label": 1}],
        )
        (tmp_path / "task.yaml").write_text(
            "task: demo_arith\n"
            "dataset_path: json\n"
            "dataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
            "test_split: test\n"
            "output_type: multiple_choice\n"
            'doc_to_text: "Question: {{question}}"\n'
            "doc_to_choice: options\n"
            'doc_to_target: "{{label}}"\n',
            encoding="utf-8",
        )
        suite = load_lm_eval_task(tmp_path / "task.yaml", "1.0.0", "en")
        item = suite.items[0]
        assert (suite.key, suite.kind, suite.source) == ("demo_arith", ItemKind.MULTIPLE_CHOICE, "lm-eval")
        assert (item.item_id, item.prompt, item.choices, item.key.choice) == (
            "q1",
            "Question: 2+2?",
            ("3", "4", "5"),
            1,
        )

    def test_jinja_filters_render_in_the_sandbox(self, tmp_path: Path) -> None:
        write_jsonl(
            tmp_path / "test.jsonl",
            [{"question": "  capital of korea?  ", "options": ["Busan", "Seoul"], "label": "Seoul"}],
        )
        write_task(
            tmp_path,
            "output_type: multiple_choice\n"
            'doc_to_text: "{{question | trim | upper}}\\n'
            "{% for c in options %}{{ 'ABCD'[loop.index0] }}. {{ c | lower }}\\n{% endfor %}"
            "({{ options | length }}: {{ options | join(', ') }}; {{ doc.missing | default('-') }};"
            " {{ '%s/%d' | format(options | first, 2) }})\"\n"
            'doc_to_choice: "{{ options }}"\n'
            "doc_to_target: \"{{ label | replace('S', 'S') }}\"\n",
        )
        item = load_lm_eval_task(tmp_path / "task.yaml", "1", "en").items[0]
        assert item.prompt == "CAPITAL OF KOREA?\nA. busan\nB. seoul\n(2: Busan, Seoul; -; Busan/2)"
        assert (item.choices, item.key.choice) == (("Busan", "Seoul"), 1)

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{{ ''.__class__.__mro__ }}", "sandbox"),
            ("{{ cycler.__init__.__globals__ }}", "sandbox"),
            ("{{ question.__class__.__base__.__subclasses__() }}", "sandbox"),
            ("{{ 'x' * 100000000 }}", "sandbox"),
            ("{{ '%999999999s' | format(question) }}", "sandbox"),
            ("{{ question | attr('upper') }}", "filter"),
            ("{{ nowhere }}", "undefined variable: 'nowhere' is undefined"),
            ("{% for i in question * 100000 %}{{ question }}{% endfor %}", "sandbox"),
        ],
    )
    def test_sandbox_escapes_and_unknown_names_are_refused(
        self, tmp_path: Path, template: str, reason: str
    ) -> None:
        write_jsonl(tmp_path / "test.jsonl", [{"question": "x", "answer": "y"}])
        write_task(tmp_path, f"output_type: generate_until\ndoc_to_text: {json.dumps(template)}\n")
        with pytest.raises(SuiteFormatError, match=r"test\.jsonl line 1: task 't'") as refused:
            load_lm_eval_task(tmp_path / "task.yaml", "1", "en")
        assert reason in str(refused.value)

    def test_a_rendering_above_the_cap_is_refused(self, tmp_path: Path) -> None:
        write_jsonl(tmp_path / "test.jsonl", [{"question": "x" * 70_000, "answer": "y"}])
        write_task(tmp_path, 'output_type: generate_until\ndoc_to_text: "Q: {{question}}"\n')
        with pytest.raises(SuiteFormatError, match="above the cap"):
            load_lm_eval_task(tmp_path / "task.yaml", "1", "en")

    @pytest.mark.parametrize(
        ("fields", "named"),
        [
            ("doc_to_text: !function utils.doc_to_text\n", "'doc_to_text' is a Python function"),
            ("process_docs: !function utils.process_docs\n", "'process_docs' runs Python"),
            ("process_results: utils.process_results\n", "'process_results' runs Python"),
            ("doc_to_target: utils.target\n", "'doc_to_target' names utils.py code"),
        ],
    )
    def test_python_functions_are_refused_naming_the_field(
        self, tmp_path: Path, fields: str, named: str
    ) -> None:
        write_jsonl(tmp_path / "test.jsonl", [{"question": "x", "answer": "y"}])
        write_task(tmp_path, "output_type: generate_until\n" + fields)
        with pytest.raises(SuiteFormatError, match=named):
            load_lm_eval_task(tmp_path / "task.yaml", "1", "en")


def write_task(directory: Path, fields: str) -> None:
    (directory / "task.yaml").write_text(
        "task: t\ndataset_kwargs:\n  data_files:\n    test: test.jsonl\ntest_split: test\n" + fields,
        encoding="utf-8",
    )


class TestHuggingFaceDirectory:
    def test_a_split_saved_as_json_lines_with_a_column_mapping(self, tmp_path: Path) -> None:
        (tmp_path / "data").mkdir()
        write_jsonl(tmp_path / "data" / "test-00000.jsonl", [{"uid": "1", "q": "1+1?", "a": 2}])
        meta = SuiteMeta("hf", "1", "hf", "en", ItemKind.NUMERIC)
        suite = load_hf_directory(
            tmp_path, "test", meta, ColumnMapping(question="q", choices=None, answer="a", item_id="uid")
        )
        assert (suite.items[0].item_id, suite.items[0].key.number) == ("1", 2.0)


class TestHashes:
    def test_the_content_hash_changes_with_a_key_but_not_with_the_version(self) -> None:
        suite = demo_contents()[0]
        items = list(suite.items)
        changed = [items[0].__class__(**{**items[0].__dict__, "key": items[1].key}), *items[1:]]
        assert content_hash(suite.kind, items) == content_hash(suite.kind, list(suite.items))
        assert content_hash(suite.kind, changed) != content_hash(suite.kind, items)

    def test_the_prompts_document_holds_no_key(self) -> None:
        for suite in demo_contents():
            document = items_document(suite.language, prompts_of(suite))
            lines = [json.loads(line) for line in document.splitlines()]
            assert all(set(line) == {"item_id", "prompt"} for line in lines)
            assert len(lines) == len(suite.items)


class TestDemoSuites:
    def test_demo_suites_in_korean_and_english_are_marked_demo(self) -> None:
        suites = demo_contents()
        assert {s.language for s in suites} == {"ko", "en"}
        # Every kind; the judged suite's judge (an endpoint, deployment-specific) is set by whoever
        # installs it (the stage-1 replay sets the simulated judge-lm).
        assert {s.kind for s in suites} == set(ItemKind)
        assert all(s.demo and s.key.startswith("demo-") and s.title.startswith("[DEMO]") for s in suites)

    def test_every_demo_item_is_graded_right_with_its_own_answer(self) -> None:
        for suite in demo_contents():
            if suite.kind in {ItemKind.CODE, ItemKind.JUDGED}:
                # executed in the sandbox (tests/scoring/grading/test_execution_sandbox.py) or judged
                # by a model (tests/e2e/test_demo.py)
                continue
            for item in suite.items:
                key = item.key
                answer = (
                    item.effective_labels()[key.choice]
                    if key.choice is not None
                    else (f"{key.number:g}" if key.number is not None else key.answers[0])
                )
                assert grade(item.gradable(), answer).correct, (suite.key, item.item_id)
