"""gRPC handlers for submissions, called by the registry's servicer inside an authorised unit of work."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from fmc_common.auth import Role
from fmc_common.errors import InvalidInput
from fmc_common.events.inference import ServingConvention
from fmc_common.grpc_calls import parse_uuid
from fmc_common.idempotency import StoredResponses, once
from fmc_protos.registry.v1 import registry_pb2
from fmc_registry.base import PLATFORM
from fmc_registry.deps import RegistryCtx
from fmc_registry.submissions import service
from fmc_registry.submissions.schemas import SubmissionCreate, SubmissionOut


def to_message(submission: SubmissionOut) -> registry_pb2.Submission:
    endpoint = submission.endpoint
    return registry_pb2.Submission(
        submission_id=str(submission.id),
        stage_id=str(submission.stage_id),
        team_id=str(submission.team_id),
        version=submission.version,
        endpoint=registry_pb2.TritonEndpoint(
            url=endpoint.url,
            model_name=endpoint.model_name,
            model_version=endpoint.model_version,
            protocol=endpoint.protocol,
            gpu_pool=endpoint.gpu_pool,
            convention=endpoint.convention,
            chat_template=endpoint.chat_template or "",
        ),
        manifest_digest=submission.manifest_digest,
        manifest_json=json.dumps(submission.manifest, sort_keys=True),
        model_card_json=json.dumps(submission.model_card, sort_keys=True),
        registered_at=submission.registered_at.isoformat(),
        frozen_at=submission.frozen_at.isoformat() if submission.frozen_at else "",
        weights_location=submission.weights_location,
    )


async def get_submission(
    ctx: RegistryCtx, request: registry_pb2.GetSubmissionRequest
) -> registry_pb2.Submission:
    submission = await service.get_submission(ctx, parse_uuid(request.submission_id, "submission_id"))
    if ctx.actor.role == Role.TEAM:
        ctx.actor.require_team(submission.team_id)
    return to_message(SubmissionOut.model_validate(service.submission_view(submission)))


def _body(request: registry_pb2.RegisterSubmissionRequest) -> SubmissionCreate:
    try:
        raw: dict[str, Any] = {
            "endpoint": {
                "url": request.endpoint.url,
                "model_name": request.endpoint.model_name,
                "model_version": request.endpoint.model_version,
                "protocol": request.endpoint.protocol,
                "gpu_pool": request.endpoint.gpu_pool,
                # proto3 strings: empty means not given (our convention, no chat template).
                "convention": request.endpoint.convention or ServingConvention.FMC_TEXT,
                "chat_template": request.endpoint.chat_template or None,
            },
            "manifest": json.loads(request.manifest_json or "null"),
            "model_card": json.loads(request.model_card_json or "null"),
        }
        return SubmissionCreate.model_validate(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput("manifest_json and model_card_json must be JSON documents") from exc
    except ValidationError as exc:
        errors = [{"location": list(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()[:20]]
        raise InvalidInput(f"{exc.error_count()} field(s) failed validation", errors=errors) from exc


async def register_submission(
    ctx: RegistryCtx, request: registry_pb2.RegisterSubmissionRequest
) -> registry_pb2.Submission:
    stage_id = parse_uuid(request.stage_id, "stage_id")
    team_id = parse_uuid(request.team_id, "team_id")
    ctx.actor.require_team(team_id)
    body = _body(request)

    async def run() -> SubmissionOut:
        submission = await service.register_submission(ctx, stage_id, team_id, body)
        return SubmissionOut.model_validate(service.submission_view(submission))

    # Same operation and payload as REST: a retry may switch between the two adapters.
    payload = {"stage_id": str(stage_id), "team_id": str(team_id), "body": body.model_dump(mode="json")}
    result = await once(
        StoredResponses(
            ctx.session,
            PLATFORM,
            ctx.clock,
            operation="register-submission",
            caller=ctx.actor,
            model=SubmissionOut,
            status_code=201,
        ),
        request.idempotency_key or None,
        payload,
        run,
    )
    return to_message(result)
