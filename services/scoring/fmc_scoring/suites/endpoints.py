"""REST: /v1/suites (operators manage suites; services read their metadata; keys are never served)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from fmc_common.auth import Role
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, after_seq, next_cursor
from fmc_common.web.problems import problem_responses
from fmc_scoring.artefacts import ArtefactsDep
from fmc_scoring.deps import ActorCtx, OperatorCtx
from fmc_scoring.suites import repository, service
from fmc_scoring.suites.content import SuiteContent, SuiteSource
from fmc_scoring.suites.loaders import ColumnMapping, SuiteFormatError, SuiteMeta, item_from_record
from fmc_scoring.suites.schemas import (
    KeyErratumIn,
    KeyRevisionOut,
    SuiteCreate,
    SuiteImport,
    SuiteItemOut,
    SuiteItemPage,
    SuiteOut,
    SuitePage,
)
from fmc_scoring.values import ItemKind

router = APIRouter(prefix="/v1/suites", tags=["suites"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SuiteOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a suite version",
)
async def create_suite(body: SuiteCreate, ctx: OperatorCtx) -> SuiteOut:
    """Create a suite version from items with their keys (operators). Keys are stored apart from the
    items and never served. The same key, version and content again returns the existing version;
    other content under an existing version is refused (`suite-version-exists`)."""
    try:
        items = tuple(
            item_from_record(body.kind, item.record(), f"items[{i}]") for i, item in enumerate(body.items)
        )
        content = SuiteContent(
            body.key, body.version, body.title, body.language, body.kind, items, source=SuiteSource.API
        )
    except (SuiteFormatError, ValueError) as exc:
        raise service.SuiteInvalid(str(exc)) from exc
    return SuiteOut.model_validate(await service.create_suite(ctx, content))


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    response_model=SuiteOut,
    responses=problem_responses(401, 403, 409, 422, 503),
    summary="Import a suite from the suites store",
)
async def import_suite(body: SuiteImport, ctx: OperatorCtx, artefacts: ArtefactsDep) -> SuiteOut:
    """Import from a file below the service's suites store (operators; the suites directory, or the S3
    bucket's suites prefix in production): the project's JSON Lines,
    an lm-evaluation-harness task YAML with local data, or a Hugging Face dataset saved as JSON Lines."""
    if body.format != "lm-eval" and (body.key is None or body.kind is None):
        raise service.SuiteInvalid("key and kind are required for this format")
    meta = SuiteMeta(
        key=body.key or "",
        version=body.version,
        title=body.title or body.key or "",
        language=body.language,
        kind=body.kind or ItemKind.EXACT_MATCH,
    )
    columns = ColumnMapping(**body.columns.model_dump())
    content = await asyncio.to_thread(
        service.load_local, artefacts.suites, SuiteSource(body.format), body.path, meta, body.split, columns
    )
    return SuiteOut.model_validate(await service.create_suite(ctx, content))


@router.post(
    "/demo",
    response_model=list[SuiteOut],
    responses=problem_responses(401, 403, 409),
    summary="Install the demo suites",
)
async def install_demo(ctx: OperatorCtx) -> list[SuiteOut]:
    """Install the demo suites shipped with the service (Korean and English, marked demo data: not a
    real benchmark). Idempotent."""
    return [SuiteOut.model_validate(s) for s in await service.install_demo_suites(ctx)]


@router.get("", response_model=SuitePage, responses=problem_responses(401, 403, 422), summary="List suites")
async def list_suites(
    ctx: ActorCtx,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> SuitePage:
    """Suite versions with their content hashes, a page at a time (operators, services)."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    suites = await repository.page(ctx.session, after_id(cursor), limit + 1)
    more = len(suites) > limit
    suites = suites[:limit]
    return SuitePage(
        items=[SuiteOut.model_validate(s) for s in suites],
        next_cursor=next_cursor(suites[-1].id if suites else None, more),
    )


@router.get(
    "/{suite_id}", response_model=SuiteOut, responses=problem_responses(401, 403, 404), summary="One suite"
)
async def get_suite(suite_id: uuid.UUID, ctx: ActorCtx) -> SuiteOut:
    """A suite version's metadata and hashes (operators, services)."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return SuiteOut.model_validate(await service.get_suite(ctx.session, suite_id))


@router.get(
    "/{suite_id}/items",
    response_model=SuiteItemPage,
    responses=problem_responses(401, 403, 404, 422),
    summary="A suite's items (without keys)",
)
async def list_items(
    suite_id: uuid.UUID,
    ctx: OperatorCtx,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_LIMIT,
) -> SuiteItemPage:
    """Prompts and choices in suite order, a page at a time (operators). Answer keys are never served."""
    await service.get_suite(ctx.session, suite_id)
    after = after_seq(cursor)
    rows = await repository.items(ctx.session, suite_id, -1 if after is None else after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return SuiteItemPage(
        items=[SuiteItemOut.model_validate(r) for r in rows],
        next_cursor=next_cursor(rows[-1].seq if rows else None, more),
    )


@router.post(
    "/{suite_id}/key-revisions",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyRevisionOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="Publish an answer-key erratum",
)
async def publish_erratum(suite_id: uuid.UUID, body: KeyErratumIn, ctx: OperatorCtx) -> KeyRevisionOut:
    """A new revision of the suite's answer key (operators), with the reason and the corrected items'
    keys; audited and listed for every team. Grades already given keep the revision they used; a
    re-evaluation ordered by an accepted objection on a benchmark suite re-grades every team's stored
    responses under the revision in force. An unknown or repeated item, or a key that does not
    change, is refused with `erratum-invalid` (422)."""
    revision = await service.publish_erratum(ctx, suite_id, body.reason, [i.record() for i in body.items])
    return KeyRevisionOut.model_validate(revision)


@router.get(
    "/{suite_id}/key-revisions",
    response_model=list[KeyRevisionOut],
    responses=problem_responses(401, 404),
    summary="A suite's answer-key errata",
)
async def key_revisions(suite_id: uuid.UUID, ctx: ActorCtx) -> list[KeyRevisionOut]:
    """Every erratum of the suite's answer key, in order: revision, reason, the items corrected and
    the key's hash after it (any authenticated caller, teams included: errata apply to all alike).
    The answers themselves are never served."""
    await service.get_suite(ctx.session, suite_id)
    return [KeyRevisionOut.model_validate(r) for r in await repository.key_revisions(ctx.session, suite_id)]
