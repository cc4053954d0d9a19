"""The five teams' SIMULATED models as a Triton model repository (``team_model/team_lm.py`` each).

A team's model "knows" the answers to a share of the demo questions given by its simulated quality:
for every demo suite (and the arena's prompts), the items whose ``sha256(model name, item id)`` is
smallest, ``round(quality * items)`` of them. The answers come from the demo suites' files, the
teams' side of the simulation: the platform itself never hands an answer key to a model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fmc_devrunner.stage1.world import ARENA_PROMPTS, SIMULATED, TeamModel
from fmc_devrunner.triton import DEFAULT_MODEL_REPOSITORY

TEMPLATE = Path(__file__).resolve().parent.parent / "team_model" / "team_lm.py"
JUDGE_MODEL = "judge-lm"  # the SIMULATED judge of the judged demo suite, copied from the dev repository
DEMO_SUITES = "fmc_scoring.suites.demo"


@dataclass(frozen=True)
class Question:
    key: str  # a stable id: suite item id or arena prompt number
    question: str  # the prompt as the model sees it, without rendered choices
    answer: str  # what a model that knows it says (a choice label for multiple choice)


def demo_questions(suite_keys: tuple[str, ...]) -> dict[str, list[Question]]:
    """Questions per demo suite (its JSON Lines file), plus the arena's under ``"arena"``."""
    package = resources.files(DEMO_SUITES)
    manifest = json.loads(package.joinpath("manifest.json").read_text(encoding="utf-8"))
    files = {suite["key"]: suite["file"] for suite in manifest["suites"]}
    questions: dict[str, list[Question]] = {}
    for key in suite_keys:
        lines = package.joinpath(files[key]).read_text(encoding="utf-8").splitlines()
        questions[key] = [_question(json.loads(line)) for line in lines if line.strip()]
    questions["arena"] = [
        Question(f"arena-{i:02d}", p.prompt, p.reference) for i, p in enumerate(ARENA_PROMPTS, start=1)
    ]
    return questions


def _question(item: dict[str, Any]) -> Question:
    if "choices" in item:
        labels = item.get("labels") or [chr(ord("A") + i) for i in range(len(item["choices"]))]
        label = item["answer"] if "answer" in item else labels[int(item["answer_index"])]
        return Question(item["item_id"], item["prompt"], str(label))
    if "tests" in item:  # executed code: the reference solution the demo file carries for this side
        return Question(item["item_id"], item["prompt"], str(item["solution"]))
    value = item["answer"] if "answer" in item else item["answers"][0]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Question(item["item_id"], item["prompt"], f"Answer: {value:g}")
    return Question(item["item_id"], item["prompt"], str(value))


def known_share(team: TeamModel, questions: list[Question]) -> list[Question]:
    ranked = sorted(questions, key=lambda q: hashlib.sha256(f"{team.model_name}:{q.key}".encode()).digest())
    return ranked[: round(team.quality * len(questions))]


def served_models(teams: tuple[TeamModel, ...]) -> tuple[str, ...]:
    """What Triton must load for a replay over ``teams``: their models and the judge of the judged
    suite (``build_repository`` writes both)."""
    return (*(team.model_name for team in teams), JUDGE_MODEL)


def build_repository(
    directory: Path, teams: tuple[TeamModel, ...], questions: dict[str, list[Question]]
) -> dict[str, int]:
    """Write ``<model>/config.pbtxt`` and ``<model>/1/{team_lm.py,knowledge.json}`` for every team, and
    the judge model beside them; return known counts."""
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(DEFAULT_MODEL_REPOSITORY / JUDGE_MODEL, directory / JUDGE_MODEL)
    known_counts: dict[str, int] = {}
    for team in teams:
        version = directory / team.model_name / "1"
        version.mkdir(parents=True)
        shutil.copyfile(TEMPLATE, version / "team_lm.py")
        known = [q for group in questions.values() for q in known_share(team, group)]
        knowledge = {
            "simulated": True,
            "note": f"SIMULATED knowledge of a stand-in model ({SIMULATED})",
            "team": team.lead,
            "quality": team.quality,
            "seed": team.model_name,
            "answers": {q.question.strip(): q.answer for q in known},
        }
        (version / "knowledge.json").write_text(json.dumps(knowledge, ensure_ascii=False, indent=1))
        (directory / team.model_name / "config.pbtxt").write_text(_config(team.model_name))
        known_counts[team.lead] = len(known)
    return known_counts


def _config(name: str) -> str:
    return f"""# SIMULATED team model for the stage-1 replay (fmc_devrunner/team_model/team_lm.py).
name: "{name}"
backend: "python"
max_batch_size: 0
default_model_filename: "team_lm.py"
input [
  {{ name: "prompt" data_type: TYPE_STRING dims: [ 1 ] }},
  {{ name: "max_tokens" data_type: TYPE_INT32 dims: [ 1 ] optional: true }}
]
output [
  {{ name: "text" data_type: TYPE_STRING dims: [ 1 ] }},
  {{ name: "prompt_tokens" data_type: TYPE_INT32 dims: [ 1 ] }},
  {{ name: "completion_tokens" data_type: TYPE_INT32 dims: [ 1 ] }}
]
instance_group [ {{ count: 1 kind: KIND_CPU }} ]
version_policy: {{ latest: {{ num_versions: 1 }} }}
"""
