"""REST: /v1/endpoints (known Triton endpoints, and the readiness check on demand)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from fmc_common.auth import Role
from fmc_common.events.inference import DecodingParameters
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, encode_cursor
from fmc_common.web.problems import problem_responses
from fmc_gateway.deps import CurrentActor, OperatorOnly, SessionDep, SettingsDep
from fmc_gateway.endpoints import service
from fmc_gateway.endpoints.readiness import Readiness
from fmc_gateway.endpoints.schemas import EndpointPage, EndpointRecordOut, ReadinessCheck, ReadinessOut
from fmc_gateway.triton.deps import TritonHostsDep
from fmc_gateway.triton.inference import EndpointAddress

router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"])


@router.post(
    "/check",
    response_model=ReadinessOut,
    responses=problem_responses(401, 403, 422),
    summary="Readiness check",
)
async def check(
    body: ReadinessCheck, actor: CurrentActor, settings: SettingsDep, hosts: TritonHostsDep
) -> ReadinessOut:
    """Run the pre-run readiness check against an endpoint now: server live, model ready, signature
    against the evaluation contract (and the decoding parameters, when given). Operators and
    services; every run does the same check before its first item. An endpoint on none of the
    gateway's Triton servers is refused (422 `uri-not-allowed`) without a connection."""
    actor.require(Role.OPERATOR, Role.SERVICE)
    result = await service.check(hosts, _address(body), _decoding(body), settings.readiness_timeout_seconds)
    return _readiness_out(result, body)


def _readiness_out(result: Readiness, body: ReadinessCheck) -> ReadinessOut:
    return ReadinessOut(
        ready=result.ok,
        code=result.code,
        reason=result.reason,
        violations=list(result.violations),
        server_version=result.server_version,
        model_version=result.model_version,
        convention=body.endpoint.convention,
        sent_inputs=dict(result.datatypes),
    )


@router.post(
    "/load",
    response_model=ReadinessOut,
    responses=problem_responses(401, 403, 409, 422, 503),
    summary="Load a model on its Triton",
)
async def load_model(
    body: ReadinessCheck, actor: OperatorOnly, settings: SettingsDep, hosts: TritonHostsDep
) -> ReadinessOut:
    """Ask the endpoint's Triton to load (or reload) the model through its repository API, then run
    the readiness check (operators; the server must run with `--model-control-mode=explicit`)."""
    result = await service.load(hosts, _address(body), _decoding(body), settings.readiness_timeout_seconds)
    return _readiness_out(result, body)


@router.post(
    "/unload",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 409, 422, 503),
    summary="Unload a model from its Triton",
)
async def unload_model(
    body: ReadinessCheck, actor: OperatorOnly, settings: SettingsDep, hosts: TritonHostsDep
) -> None:
    """Ask the endpoint's Triton to unload the model (operators). Runs on it wait until it is back."""
    await service.unload(hosts, _address(body), settings.readiness_timeout_seconds)


def _decoding(body: ReadinessCheck) -> DecodingParameters | None:
    return DecodingParameters.model_validate(body.decoding.model_dump()) if body.decoding else None


def _address(body: ReadinessCheck) -> EndpointAddress:
    return EndpointAddress(
        url=body.endpoint.url,
        protocol=body.endpoint.protocol,
        model_name=body.endpoint.model_name,
        model_version=body.endpoint.model_version,
        convention=body.endpoint.convention,
    )


@router.get("", response_model=EndpointPage, responses=problem_responses(401, 403, 422), summary="Endpoints")
async def list_endpoints(
    session: SessionDep,
    actor: CurrentActor,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> EndpointPage:
    """Triton endpoints known from submissions and runs, with their last readiness check."""
    actor.require(Role.OPERATOR, Role.SERVICE)
    rows = await service.page(session, after_id(cursor), limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    return EndpointPage(
        items=[EndpointRecordOut.model_validate(row) for row in rows],
        next_cursor=encode_cursor(str(rows[-1].id)) if has_more and rows else None,
    )
