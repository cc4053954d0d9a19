"""REST: /v1/runs (request a run, read it, read its responses page by page)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from fmc_common.auth import Role
from fmc_common.events.inference import RunEfficiency
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, after_seq, encode_cursor
from fmc_common.web.problems import problem_responses
from fmc_gateway.deps import CurrentActor, RuntimeDep, SessionDep, SettingsDep
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.runs import repository, service
from fmc_gateway.runs.deps import EngineDep
from fmc_gateway.runs.models import Run, RunStatus
from fmc_gateway.runs.schemas import (
    EndpointOut,
    ResponseOut,
    ResponsePage,
    RunConditions,
    RunCreate,
    RunOut,
    RunPage,
)

router = APIRouter(prefix="/v1/runs", tags=["runs"])
MAX_RESPONSES_PAGE = 1000


def run_out(run: Run, endpoint: Endpoint) -> RunOut:
    return RunOut(
        id=run.id,
        stage_id=run.stage_id,
        submission_id=run.submission_id,
        team_id=run.team_id,
        status=run.status,
        status_reason=run.status_reason,
        failure_code=run.failure_code,
        stuck_since=run.stuck_since,
        total=run.total,
        answered=run.answered,
        errored=run.errored,
        endpoint=EndpointOut(
            url=endpoint.url,
            protocol=endpoint.protocol,
            model_name=endpoint.model_name,
            model_version=endpoint.model_version,
            convention=endpoint.convention,
            chat_template=run.chat_template,
        ),
        gpu_pool=run.gpu_pool,
        hardware_class=run.hardware_class,
        server_version=run.server_version,
        model_version=run.model_version,
        suite_id=run.suite_id,
        suite_version=run.suite_version,
        suite_hash=run.suite_hash,
        decoding=run.decoding,
        limits=run.limits,
        responses_sha256=run.responses_sha256,
        efficiency=None if run.efficiency is None else RunEfficiency.model_validate(run.efficiency),
        requested_at=run.requested_at,
        accepted_at=run.accepted_at,
        prepared_at=run.prepared_at,
        finished_at=run.finished_at,
        last_progress_at=run.last_progress_at,
        conditions=RunConditions(
            gpu_pool=run.gpu_pool,
            hardware_class=run.hardware_class,
            serving_stack=run.serving_stack,
            server_version=run.server_version,
            model_name=run.model_name or endpoint.model_name,
            model_version=run.model_version,
            decoding=run.decoding,
            limits=run.limits,
        ),
    )


async def _out(session: SessionDep, run: Run) -> RunOut:
    return run_out(run, await service.endpoint_of(session, run))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RunOut,
    responses={
        200: {"model": RunOut, "description": "The same request again: the run as it stands"},
        **problem_responses(401, 403, 409, 422),
    },
    summary="Request a run",
)
async def request_run(
    body: RunCreate,
    response: Response,
    session: SessionDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    settings: SettingsDep,
    engine: EngineDep,
) -> RunOut:
    """Request a run of a suite's items on a submission's Triton endpoint (operators and services).

    The same as emitting `InferenceRunRequested`. Idempotent on `run_id`: the same request again
    returns the run (200); another request with that id is refused (409). Items that are not under
    one of the gateway's configured sources, and an endpoint on none of its Triton servers, are
    refused (422 `uri-not-allowed`). The run is prepared
    (readiness check, items fetch) and answered in the background; follow it with `GET /v1/runs/{id}`.
    """
    actor.require(Role.OPERATOR, Role.SERVICE)
    accepted = await service.accept_run(
        session,
        runtime.outbox,
        runtime.clock,
        settings.pool_hardware,
        engine.sources,
        engine.triton_hosts,
        body.to_request(runtime.clock.now()),
    )
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    engine.notify()
    return await _out(session, accepted.run)


@router.get("/{run_id}", response_model=RunOut, responses=problem_responses(401, 403, 404), summary="One run")
async def get_run(run_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> RunOut:
    """Status (and why it waits or failed), counts, pool, hardware class, server and model versions.

    Operators and services see every run; a team sees its own runs.
    """
    return await _out(session, await service.get_run(session, run_id, actor))


@router.get("", response_model=RunPage, responses=problem_responses(401, 403, 422), summary="List runs")
async def list_runs(
    session: SessionDep,
    actor: CurrentActor,
    stage_id: uuid.UUID | None = None,
    run_status: Annotated[RunStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> RunPage:
    """Runs in a stable order, a page at a time; a team sees only its own."""
    actor.require(Role.OPERATOR, Role.SERVICE, Role.TEAM)
    after = _uuid_cursor(cursor)
    rows = await service.page_runs(
        session, actor, after=after, limit=limit + 1, stage_id=stage_id, status=run_status
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return RunPage(
        items=[run_out(run, endpoint) for run, endpoint in rows],
        next_cursor=encode_cursor(str(rows[-1][0].id)) if has_more and rows else None,
    )


@router.get(
    "/{run_id}/responses",
    response_model=ResponsePage,
    responses=problem_responses(401, 403, 404, 422),
    summary="A run's responses",
)
async def list_responses(
    run_id: uuid.UUID,
    session: SessionDep,
    actor: CurrentActor,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RESPONSES_PAGE)] = DEFAULT_LIMIT,
) -> ResponsePage:
    """The stored record of every item answered so far, in item order, a page at a time.

    For scoring (service), operators, and the team whose model it is. Complete once the run's
    status is `completed`; `responses_sha256` on the run is the hash over all of them.
    """
    run = await service.get_run(session, run_id, actor)
    after = after_seq(cursor)
    records = await repository.page_responses(session, run_id, -1 if after is None else after, limit + 1)
    has_more = len(records) > limit
    records = records[:limit]
    return ResponsePage(
        run_id=run.id,
        run_status=run.status,
        total=run.total,
        items=[ResponseOut.model_validate(record) for record in records],
        next_cursor=encode_cursor(str(records[-1].seq)) if has_more and records else None,
    )


def _uuid_cursor(cursor: str | None) -> uuid.UUID | None:
    return after_id(cursor)
