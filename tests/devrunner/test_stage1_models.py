"""The replay's simulated team models: what they know follows their quality, and they answer only that."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from fmc_devrunner.demo import check_outcome
from fmc_devrunner.process import ProcessFailed
from fmc_devrunner.stage1 import models, world
from fmc_devrunner.stage1.scenario import ALL_SUITES, Replay, ReplayFailed, ReplayRecord, TeamState
from fmc_scoring.grading.execution.grade import grade_code
from fmc_scoring.grading.execution.runner import Executor
from fmc_scoring.grading.execution.sandbox import Limits, Runtime
from fmc_scoring.suites.service import demo_contents
from fmc_scoring.values import ItemKind


def team_lm() -> ModuleType:
    spec = importlib.util.spec_from_file_location("team_lm_under_test", models.TEMPLATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MCQ = "대한민국의 수도는 어디입니까?\nA. 부산\nB. 서울\nC. 인천\nD. 대구\n정답:"


class TestAnswer:
    def test_a_known_multiple_choice_question_gets_its_label_with_the_cue_of_its_language(self) -> None:
        lm = team_lm()
        assert lm.answer(MCQ, {"대한민국의 수도는 어디입니까?": "B"}, "s", 64) == "정답: B"

    def test_an_unknown_multiple_choice_question_gets_a_reproducible_guess_among_the_letters(self) -> None:
        lm = team_lm()
        guesses = {lm.answer(MCQ, {}, "seed", 64) for _ in range(3)}
        assert len(guesses) == 1
        assert guesses.pop() in {"정답: A", "정답: B", "정답: C", "정답: D"}

    def test_an_unknown_open_question_is_admitted_in_its_language(self) -> None:
        lm = team_lm()
        assert lm.answer("What is half of 3? Answer with a number.", {}, "s", 64) == "I am not sure."
        assert lm.answer("물이 얼면 무엇이 됩니까?", {}, "s", 64) == "잘 모르겠습니다."
        assert lm.answer("물이 얼면 무엇이 됩니까?", {"물이 얼면 무엇이 됩니까?": "얼음"}, "s", 64) == "얼음"

    def test_the_answer_respects_max_tokens(self) -> None:
        lm = team_lm()
        assert lm.answer("q", {"q": "one two three"}, "s", 2) == "one two"

    def test_knowledge_not_marked_simulated_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "knowledge.json"
        path.write_text(json.dumps({"seed": "x", "answers": {}}))
        with pytest.raises(ValueError, match="simulated"):
            team_lm().load_knowledge(path)


class TestRepository:
    def test_each_team_knows_its_quality_share_of_every_suite_and_the_arena(self, tmp_path: Path) -> None:
        questions = models.demo_questions(ALL_SUITES)
        known = models.build_repository(tmp_path, world.TEAM_MODELS, questions)
        for team in world.TEAM_MODELS:
            expected = sum(round(team.quality * len(group)) for group in questions.values())
            assert known[team.lead] == expected
            knowledge = json.loads((tmp_path / team.model_name / "1" / "knowledge.json").read_text())
            assert knowledge["simulated"] is True
            assert len(knowledge["answers"]) == expected
            assert f'name: "{team.model_name}"' in (tmp_path / team.model_name / "config.pbtxt").read_text()
        assert known["NC AI"] < known["LG AI Research"] < known["Upstage"]

    def test_answers_follow_the_suites_keys(self) -> None:
        questions = {q.key: q for q in models.demo_questions(ALL_SUITES)["demo-en-arithmetic"]}
        assert questions["en-ar-004"].answer == "Answer: 1.5"
        mcq = {q.key: q for q in models.demo_questions(ALL_SUITES)["demo-en-general-mcq"]}
        assert mcq["en-mcq-001"].answer == "C"


class TestOutcomeCheck:
    def record(self, outcomes: dict[str, tuple[str, str | None]]) -> ReplayRecord:
        record = ReplayRecord()
        for model in world.TEAM_MODELS:
            team = TeamState(model.lead, f"{model.lead} consortium", uuid.uuid4(), model)
            team.outcome, team.reason = outcomes[model.lead]
            record.teams.append(team)
        record.finalisation["selection_call"] = {"vacancies": 1}
        return record

    def test_the_articles_outcome_passes_and_any_other_fails(self) -> None:
        outcomes: dict[str, tuple[str, str | None]] = {
            lead: ("advance", None) for lead in world.EXPECTED_ADVANCING
        }
        outcomes |= {lead: ("eliminate", reason) for lead, reason in world.EXPECTED_ELIMINATED.items()}
        check_outcome(self.record(outcomes))
        with pytest.raises(ReplayFailed, match="differs"):
            check_outcome(self.record(outcomes | {"NC AI": ("eliminate", "rank")}))


class TestExecutedSuite:
    async def test_the_replay_has_an_executed_suite_each_team_passing_what_it_knows(
        self, tmp_path: Path
    ) -> None:
        """The teams' answers to the demo code suite, as Triton serves them (64 tokens), graded in the
        real sandbox: right where the team "knows" the item, no code where it does not."""
        code_suites = [s for s in demo_contents() if s.kind == ItemKind.CODE and s.key in ALL_SUITES]
        assert code_suites
        suite = code_suites[0]
        questions = models.demo_questions(ALL_SUITES)
        models.build_repository(tmp_path, world.TEAM_MODELS, questions)
        lm = team_lm()
        executor = Executor(Runtime(), Limits(), concurrency=2, run_as=65534)
        passed: dict[str, int] = {}
        for team in world.TEAM_MODELS:
            knowledge, seed = lm.load_knowledge(tmp_path / team.model_name / "1" / "knowledge.json")
            reasons = [
                (
                    await grade_code(item.gradable(), lm.answer(item.prompt, knowledge, seed, 64), executor)
                ).reason
                for item in suite.items
            ]
            assert set(reasons) <= {"correct", "no-code-found"}, team.lead
            passed[team.lead] = sum(reason == "correct" for reason in reasons)
            assert passed[team.lead] == len(models.known_share(team, questions[suite.key]))
        assert passed["NC AI"] < passed["LG AI Research"] <= passed["Upstage"]


class _Process:
    def __init__(self, exited: bool = False) -> None:
        self.exited = exited

    def check_alive(self) -> None:
        if self.exited:
            raise ProcessFailed("scoring exited with code 1")


def _replay_on(*processes: _Process) -> Any:
    """Just what Replay.eventually reads of the replay: its stack's service processes."""
    services = {str(i): SimpleNamespace(process=process) for i, process in enumerate(processes)}
    return SimpleNamespace(stack=SimpleNamespace(services=services))


class TestReplayWaits:
    """The replay polls with the shared helper (fmc_devrunner.polling), stopping at a dead service."""

    async def test_it_returns_what_the_probe_finds(self) -> None:
        answers = iter([None, None, {"graded": 3}])

        async def probe() -> dict[str, int] | None:
            return next(answers)

        found = await Replay.eventually(_replay_on(_Process()), "graded", probe, timeout=10)
        assert found == {"graded": 3}

    async def test_it_fails_naming_what_it_waited_for(self) -> None:
        async def never() -> None:
            return None

        with pytest.raises(ReplayFailed, match=r"every team notified was not met within 0\.3 s"):
            await Replay.eventually(_replay_on(_Process()), "every team notified", never, timeout=0.3)

    async def test_a_dead_service_stops_the_wait_at_once(self) -> None:
        async def never() -> None:
            return None

        with pytest.raises(ProcessFailed, match="scoring exited"):
            await Replay.eventually(_replay_on(_Process(), _Process(exited=True)), "x", never, timeout=60)
