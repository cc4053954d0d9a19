"""REST: /v1/originality (the reference library of donor models, checks and their reports)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from fmc_common.auth import Actor, Role
from fmc_common.idempotency import StoredResponses, once
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, encode_cursor
from fmc_common.web.deps import component
from fmc_common.web.problems import problem_responses
from fmc_scoring.artefacts import ArtefactsDep
from fmc_scoring.base import PLATFORM
from fmc_scoring.deps import ActorCtx, OperatorCtx
from fmc_scoring.originality import repository, service
from fmc_scoring.originality.models import OriginalityCheck
from fmc_scoring.originality.registry import RegistrySubmissions
from fmc_scoring.originality.schemas import (
    CheckCreate,
    CheckOut,
    CheckPage,
    CheckSummary,
    DonorCreate,
    DonorOut,
    DonorPage,
    DonorRetirement,
)

router = APIRouter(prefix="/v1/originality", tags=["originality"])

RegistryDep = Annotated[RegistrySubmissions, Depends(component(RegistrySubmissions))]


def _after(cursor: str | None) -> uuid.UUID | None:
    return after_id(cursor)


@router.post(
    "/donors",
    status_code=status.HTTP_201_CREATED,
    response_model=DonorOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Register a donor model in the reference library",
)
async def register_donor(body: DonorCreate, ctx: OperatorCtx, artefacts: ArtefactsDep) -> DonorOut:
    """Fingerprint a known public model (pinned by revision) from its safetensors weights. Operators only.

    Per tensor the library keeps its name, shape, dtype, hashes and compact statistics; the raw
    weights are not kept. The path is relative to the service's weights directory.
    """
    donor = await service.register_donor(
        ctx.session,
        ctx.clock,
        artefacts.donors,
        name=body.name,
        revision=body.revision,
        weights_path=body.weights_path,
        actor=ctx.actor.subject,
    )
    return DonorOut.model_validate(donor)


@router.get(
    "/donors",
    response_model=DonorPage,
    responses=problem_responses(401, 403, 422),
    summary="List donor models",
)
async def list_donors(
    ctx: OperatorCtx,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> DonorPage:
    """The reference library, a page at a time. Operators only."""
    donors = await repository.donors_page(ctx.session, _after(cursor), limit + 1)
    has_more = len(donors) > limit
    donors = donors[:limit]
    return DonorPage(
        items=[DonorOut.model_validate(d) for d in donors],
        next_cursor=encode_cursor(str(donors[-1].id)) if has_more and donors else None,
    )


@router.get(
    "/donors/{donor_id}",
    response_model=DonorOut,
    responses=problem_responses(401, 403, 404),
    summary="One donor model",
)
async def get_donor(donor_id: uuid.UUID, ctx: OperatorCtx) -> DonorOut:
    """A donor model of the reference library. Operators only."""
    return DonorOut.model_validate(await service.get_donor(ctx.session, donor_id))


@router.post(
    "/donors/{donor_id}/retirement",
    response_model=DonorOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Retire a donor model from the reference library",
)
async def retire_donor(donor_id: uuid.UUID, body: DonorRetirement, ctx: OperatorCtx) -> DonorOut:
    """Operators only, with a reason (audited as `originality.donor-retired`). Later checks do not
    compare with the donor; earlier checks keep their reports, and correcting a verdict that rested
    on it is a re-check of that team (`POST /checks` with a `reason`). Retiring twice is
    `409 donor-retired`."""
    return DonorOut.model_validate(await service.retire_donor(ctx, donor_id, body.reason))


@router.post(
    "/checks",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Check a frozen submission's weights for reused third-party weights",
)
async def run_check(
    body: CheckCreate,
    ctx: OperatorCtx,
    registry: RegistryDep,
    artefacts: ArtefactsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CheckOut:
    """Compare a frozen submission's weights with every donor model, module by module. Operators only.

    The request names the stage and a submission frozen for its evaluation (else 404
    `frozen-submission-not-found`); the team is the submission's. The weights are read from the
    location the registry holds for the submission, under `FMC_SCORING_SUBMISSION_WEIGHTS_ROOT`
    (in production the S3 bucket's `FMC_SCORING_S3_SUBMISSION_WEIGHTS_PREFIX`), with the manifest
    whose digest was frozen (else 409 `manifest-digest-mismatch`). Every file must be there with its
    declared size and sha256, and no undeclared `.safetensors` file beside them, else 409
    `weights-mismatch` listing the first mismatches, and nothing is recorded. A second check of the
    team in the stage is a re-check: it needs a `reason` (422 `recheck-reason-required`), is
    audited, and being the latest is the one results use. 503 `artefact-store-unavailable` when the
    store cannot be read.

    Files the reader refuses (links, FIFOs, devices, caps on header size, tensor count and model size
    `FMC_SCORING_ORIGINALITY_MAX_*`, unknown dtypes, headers that lie about offsets or lengths) are
    recorded as a check with the verdict `unreadable`, its report's summary naming the file and the
    rule, never its content; weights with nothing to compare (no tensors, no finite value) are recorded
    as `not-comparable`. Neither is ever `original`; the results gate stays pending on both.

    Returns the verdict (`original`, `reused`, `needs-review`, `not-comparable` or `unreadable`) and the
    report explaining it, and emits `OriginalityVerdictIssued` (v2 for the last two).
    Send an `Idempotency-Key` header to make retries safe.
    """

    async def run() -> CheckOut:
        check = await service.run_check(
            ctx,
            registry,
            artefacts.submissions,
            stage_id=body.stage_id,
            submission_id=body.submission_id,
            reason=body.reason,
            limits=service.reader_limits(ctx.settings),
        )
        return _check_out(check)

    responses = StoredResponses(
        ctx.session, PLATFORM, ctx.clock, operation="originality-check", caller=ctx.actor, model=CheckOut
    )
    return await once(responses, idempotency_key, body.model_dump(mode="json"), run)


@router.get(
    "/checks/{check_id}",
    response_model=CheckOut,
    responses=problem_responses(401, 403, 404),
    summary="One check with its report",
)
async def get_check(check_id: uuid.UUID, ctx: ActorCtx) -> CheckOut:
    """Operators and services see every check; a team sees the checks of its own submissions."""
    check = await service.get_check(ctx.session, check_id)
    _require_reader(ctx.actor, check.team_id)
    return _check_out(check)


@router.get(
    "/checks", response_model=CheckPage, responses=problem_responses(401, 403, 422), summary="List checks"
)
async def list_checks(
    ctx: ActorCtx,
    team_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> CheckPage:
    """Checks in a stable order (without reports). A team lists only its own."""
    actor = ctx.actor
    if actor.role == Role.TEAM:
        if team_id is not None:
            actor.require_team(team_id)
        team_id = actor.team_id
    else:
        actor.require(Role.OPERATOR, Role.SERVICE)
    checks = await repository.checks_page(ctx.session, team_id, _after(cursor), limit + 1)
    has_more = len(checks) > limit
    checks = checks[:limit]
    return CheckPage(
        items=[CheckSummary.model_validate(c) for c in checks],
        next_cursor=encode_cursor(str(checks[-1].id)) if has_more and checks else None,
    )


def _require_reader(actor: Actor, team_id: uuid.UUID) -> None:
    if actor.role != Role.SERVICE:
        actor.require_team(team_id)


def _check_out(check: OriginalityCheck) -> CheckOut:
    summary = CheckSummary.model_validate(check)
    return CheckOut.model_validate({**summary.model_dump(), "report": check.report})
