"""A judged run's item grades from its stored judgements: a re-grade recomputes them from what the
judge said, and never asks the judge again (docs/scoring.md, "Judged answers")."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict
from fmc_scoring.grading.grader import GradeReason, ItemGrade
from fmc_scoring.judging import repository
from fmc_scoring.judging.repository import Verdict
from fmc_scoring.judging.verdicts import Judged, Parsed, Position, judge_item


class RunNotJudged(Conflict):
    code = "run-not-judged"
    title = "The run of a judged suite has not been judged yet"


def latest(judgements: Iterable[Verdict]) -> dict[str, dict[Position, Parsed]]:
    """Each item's last attempt per position (attempts come in order), as parsed."""
    found: dict[str, dict[Position, Parsed]] = {}
    for item_id, position, rating, outcome in judgements:
        found.setdefault(item_id, {})[position] = Parsed(rating, outcome)
    return found


def item_grade(judged: Judged) -> ItemGrade:
    """An unparsable judgement is graded as such, with no credit: never silently scored."""
    if judged.unparsable:
        return ItemGrade(judged.item_id, False, GradeReason.JUDGE_UNPARSABLE, None, score=0.0)
    return ItemGrade(
        judged.item_id, judged.credit > 0.5, GradeReason.JUDGED, judged.verdict, score=judged.credit
    )


async def judged_grades(
    session: AsyncSession, run_id: uuid.UUID, item_ids: Sequence[str], answers: Mapping[str, str | None]
) -> list[ItemGrade]:
    """Every item in suite order: an item the team's model did not answer is an inference error (not
    judged); one whose judgement stayed unparsable is ``judge-unparsable``."""
    runs = await repository.judge_runs_of(session, run_id)
    if not runs:
        raise RunNotJudged(f"run {run_id} of a judged suite has no judge run")
    judge = await repository.judge_revision(session, runs[0].suite_id, runs[0].judge_revision)
    assert judge is not None  # a judge run names the revision it was requested under
    parsed = latest(await repository.verdicts(session, run_id))
    grades = []
    for item_id in item_ids:
        if answers.get(item_id) is None:
            grades.append(ItemGrade(item_id, False, GradeReason.INFERENCE_ERROR, None))
        else:
            grades.append(item_grade(judge_item(item_id, judge.mode, parsed.get(item_id, {}))))
    return grades
