"""gRPC adapter: FileObjection and GetObjection over the same service functions as REST."""

from __future__ import annotations

import base64

from pydantic import ValidationError

from fmc_common.errors import InvalidInput
from fmc_common.grpc_calls import parse_uuid
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.objections import service, views
from fmc_grievance.objections.schemas import ObjectionCreate, ObjectionOut
from fmc_protos.grievance.v1 import grievance_pb2


def _attachment_in(attachment: grievance_pb2.Attachment) -> dict[str, str]:
    given = {"name": attachment.name, "media_type": attachment.media_type}
    if attachment.sha256:
        return given | {"sha256": attachment.sha256}
    return given | {"content_base64": base64.b64encode(attachment.content).decode()}


def _filing(request: grievance_pb2.FileObjectionRequest) -> ObjectionCreate:
    try:
        return ObjectionCreate.model_validate(
            {
                "decision": {"kind": request.decision.kind, "id": request.decision.id},
                "grounds": request.grounds,
                "statement": request.statement,
                "attachments": [_attachment_in(a) for a in request.attachments],
            }
        )
    except ValidationError as exc:
        errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:10]]
        raise InvalidInput("; ".join(errors)) from exc


def to_message(objection: ObjectionOut) -> grievance_pb2.Objection:
    window = objection.window
    return grievance_pb2.Objection(
        objection_id=str(objection.id),
        team_id=str(objection.team_id),
        decision=grievance_pb2.DecisionRef(kind=objection.decision.kind, id=str(objection.decision.id)),
        stage_id=str(objection.stage_id),
        status=objection.status,
        current_version=objection.current_version,
        grounds=objection.grounds,
        statement=objection.statement,
        attachments=[
            grievance_pb2.Attachment(name=a.name, media_type=a.media_type, sha256=a.sha256, size=a.size)
            for a in objection.attachments
        ],
        filed_at=objection.filed_at.isoformat(),
        updated_at=objection.updated_at.isoformat(),
        window=grievance_pb2.ObjectionWindow(
            opens_at=window.opens_at.isoformat(),
            deadline=window.deadline.isoformat(),
            closes_at=window.closes_at.isoformat(),
            last_day=window.last_day.isoformat(),
            time_zone=window.time_zone,
            objection_days=window.objection_days,
            state=window.state,
        ),
        resolution_outcome=objection.resolution.outcome if objection.resolution else "",
        resolution_reason=objection.resolution.reason if objection.resolution else "",
    )


async def file_objection(
    ctx: GrievanceCtx, request: grievance_pb2.FileObjectionRequest
) -> grievance_pb2.Objection:
    key = request.idempotency_key.strip()
    if not key or len(key) > 200:
        raise InvalidInput("idempotency_key is required (1 to 200 characters)")
    objection = await service.file(ctx, _filing(request), key)
    return to_message(await views.objection_out(ctx, objection))


async def get_objection(
    ctx: GrievanceCtx, request: grievance_pb2.GetObjectionRequest
) -> grievance_pb2.Objection:
    objection = await service.readable(ctx, parse_uuid(request.objection_id, "objection_id"))
    return to_message(await views.objection_out(ctx, objection))
