"""A suite's judge (versioned), the judge prompts rendered from the answers, and the judge items
document the gateway fetches. The flow that requests judge runs and grades from their judgements is
grading's (``fmc_scoring.grading.judged``): this package sits below grading and planning.

A judge run carries no team: its ``team_id`` and ``submission_id`` are ``JUDGE_ID`` (a fixed id of
no team), so neither the judge model nor the gateway's records of the judge run say whose answers
they are, and no team can read them (they hold the reference answers).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import InvalidInput
from fmc_common.events.inference import RunEndpoint
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.judging import repository
from fmc_scoring.judging.models import SuiteJudge
from fmc_scoring.judging.repository import JudgeNotSet
from fmc_scoring.judging.verdicts import JudgeMode, Position, judge_prompt, positions
from fmc_scoring.suites import service as suites
from fmc_scoring.suites.content import SuiteContent
from fmc_scoring.values import ItemKind

JUDGE_ID = uuid.UUID("00000000-0000-5000-8000-6a7564676521")
"""The team and submission id of every judge run: no team's (version 5 layout, never issued)."""

SEPARATOR = "~"
"""Between an item id (which has no whitespace, and no ``~`` in practice) and its position."""


class SuiteNotJudged(InvalidInput):
    code = "suite-not-judged"
    title = "Only a suite of kind `judged` takes a judge"


def _content_sha256(fields: Mapping[str, object]) -> str:
    encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


async def set_judge(
    ctx: ScoringCtx,
    suite_id: uuid.UUID,
    mode: JudgeMode,
    endpoint: RunEndpoint,
    template: str,
    template_version: str,
    rubric: str,
    max_tokens: int,
    max_attempts: int,
) -> SuiteJudge:
    """A new revision of the suite's judge; the same content again returns the revision in force.
    Runs already judged keep the revision they were judged under."""
    suite = await suites.get_suite(ctx.session, suite_id)
    if suite.kind != ItemKind.JUDGED:
        raise SuiteNotJudged(f"suite {suite.key}@{suite.version} is {suite.kind}")
    fields = {
        "mode": str(mode),
        "endpoint": endpoint.model_dump(mode="json"),
        "template": template,
        "template_version": template_version,
        "rubric": rubric,
        "max_tokens": max_tokens,
        "max_attempts": max_attempts,
    }
    digest = _content_sha256(fields)
    current = await repository.judge_in_force(ctx.session, suite_id)
    if current is not None and current.content_sha256 == digest:
        return current
    judge = SuiteJudge(
        suite_id=suite_id,
        revision=1 if current is None else current.revision + 1,
        mode=mode,
        endpoint=fields["endpoint"],
        template=template,
        template_version=template_version,
        rubric=rubric,
        max_tokens=max_tokens,
        max_attempts=max_attempts,
        content_sha256=digest,
        created_by=ctx.actor.subject,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(judge)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="suite.judge-set",
        entity_type="suite",
        entity_id=suite_id,
        details={"revision": judge.revision, "mode": str(mode), "content_sha256": digest},
    )
    return judge


async def get_judge(session: AsyncSession, suite_id: uuid.UUID) -> SuiteJudge:
    judge = await repository.judge_in_force(session, suite_id)
    if judge is None:
        raise JudgeNotSet(f"suite {suite_id} has no judge")
    return judge


def judge_item_id(item_id: str, position: Position) -> str:
    return f"{item_id}{SEPARATOR}{position}"


def split_item_id(judge_item: str) -> tuple[str, Position]:
    item_id, _, position = judge_item.rpartition(SEPARATOR)
    return item_id, Position(position)


def judge_document(
    judge: SuiteJudge,
    content: SuiteContent,
    answers: Mapping[str, str | None],
    wanted: set[tuple[str, Position]],
) -> bytes:
    """The judge's items document: JSON Lines ``{"item_id", "prompt"}`` (the items document format),
    one line per wanted (item, position) in suite order. Only the question, the answer, the reference
    and the rubric go in: nothing names the team."""
    lines = []
    for item in content.items:
        reference = item.key.answers[0] if item.key.answers else ""
        for position in positions(judge.mode):
            if (item.item_id, position) not in wanted:
                continue
            answer = answers.get(item.item_id) or ""
            prompt = judge_prompt(judge.template, judge.rubric, position, item.prompt, answer, reference)
            record = {"item_id": judge_item_id(item.item_id, position), "prompt": prompt}
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return b"".join(lines)


async def judge_items(session: AsyncSession, judge_run_id: uuid.UUID) -> bytes | None:
    """A judge run's items document as stored (None: no such judge run)."""
    judge_run = await repository.judge_run(session, judge_run_id)
    return None if judge_run is None else judge_run.document.encode()
