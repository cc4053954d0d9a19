"""A judged run's item grades from its stored judgements (read by grading: a re-grade recomputes
them from what the judge said, never asks the judge again)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict
from fmc_scoring.grading.grader import GradeReason, ItemGrade
from fmc_scoring.judging import repository
from fmc_scoring.judging.models import Judgement, JudgeRun
from fmc_scoring.judging.verdicts import JudgeMode, Parsed, Position, item_grade


class RunNotJudged(Conflict):
    code = "run-not-judged"
    title = "The run of a judged suite has not been judged yet"


def latest(judgements: Sequence[Judgement]) -> dict[str, dict[Position, Parsed]]:
    """Each item's last attempt per position (attempts come in order), as parsed."""
    found: dict[str, dict[Position, Parsed]] = {}
    for row in judgements:
        found.setdefault(row.item_id, {})[row.position] = Parsed(row.rating, row.outcome)
    return found


async def judged_grades(
    session: AsyncSession, run_id: uuid.UUID, item_ids: Sequence[str], answers: Mapping[str, str | None]
) -> list[ItemGrade]:
    """Every item in suite order: an item the team's model did not answer is an inference error; one
    the judge was never asked about (no judge run yet) or left unparsable is ``judge-unparsable``."""
    runs = await repository.judge_runs_of(session, run_id)
    if not runs:
        raise RunNotJudged(f"run {run_id} of a judged suite has no judge run")
    mode = await _mode(session, runs[0])
    parsed = latest(await repository.judgements(session, run_id))
    grades = []
    for item_id in item_ids:
        if answers.get(item_id) is None:
            grades.append(ItemGrade(item_id, False, GradeReason.INFERENCE_ERROR, None))
        else:
            grades.append(item_grade(item_id, mode, parsed.get(item_id, {})))
    return grades


async def _mode(session: AsyncSession, run: JudgeRun) -> JudgeMode:
    judge = await repository.judge_revision(session, run.suite_id, run.judge_revision)
    assert judge is not None  # a judge run names an existing revision (foreign data of scoring)
    return judge.mode
