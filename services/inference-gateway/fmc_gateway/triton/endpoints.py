"""REST: /v1/triton."""

from __future__ import annotations

from fastapi import APIRouter

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_gateway.deps import CurrentActor, SettingsDep
from fmc_gateway.triton.client import server_status
from fmc_gateway.triton.schemas import TritonStatus

router = APIRouter(prefix="/v1/triton", tags=["triton"])


@router.get(
    "/status",
    response_model=TritonStatus,
    responses=problem_responses(401, 403, 503),
    summary="Triton health",
)
async def triton_status(actor: CurrentActor, settings: SettingsDep) -> TritonStatus:
    """Health, version and models of the configured Triton server (operators and services)."""
    actor.require(Role.OPERATOR, Role.SERVICE)
    return await server_status(settings.triton_url, settings.triton_timeout_seconds)
