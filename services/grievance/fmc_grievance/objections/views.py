"""What callers read about an objection (the current version, its window, its resolution)."""

from __future__ import annotations

from fmc_common.events.grievance import ObjectionOutcome
from fmc_grievance.decisions import DecisionRef
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.notifications import repository as notifications
from fmc_grievance.objections import repository
from fmc_grievance.objections.models import Concerns, Objection, ObjectionVersion, VersionAttachment
from fmc_grievance.objections.schemas import (
    AttachmentOut,
    ObjectionOut,
    ObjectionSummary,
    ReEvaluationOut,
    ResolutionOut,
    VersionList,
    VersionOut,
)
from fmc_grievance.windows.schemas import WindowOut


def _attachment(a: VersionAttachment) -> AttachmentOut:
    return AttachmentOut(name=a.name, media_type=a.media_type, size=a.size, sha256=a.sha256)


def _decision(objection: Objection) -> DecisionRef:
    return DecisionRef(kind=objection.decision_kind, id=objection.decision_id)


async def objection_out(ctx: GrievanceCtx, objection: Objection) -> ObjectionOut:
    version = await repository.version(ctx.session, objection.id, objection.current_version)
    notification = await notifications.get(ctx.session, objection.notification_id)
    assert version is not None
    assert notification is not None
    listed = await repository.attachments(ctx.session, objection.id, objection.current_version)
    return ObjectionOut(
        id=objection.id,
        team_id=objection.team_id,
        decision=_decision(objection),
        stage_id=objection.stage_id,
        status=objection.status,
        current_version=objection.current_version,
        grounds=version.grounds,
        statement=version.statement,
        attachments=[_attachment(a) for a in listed],
        filed_at=objection.filed_at,
        updated_at=objection.updated_at,
        review_started_at=objection.review_started_at,
        resolution=await _resolution(ctx, objection),
        window=WindowOut.of(notifications.window_of(notification), ctx.clock.now()),
    )


async def _resolution(ctx: GrievanceCtx, objection: Objection) -> ResolutionOut | None:
    if objection.decided_at is None:
        return None
    request = await repository.re_evaluation(ctx.session, objection.id)
    re_evaluation = (
        ReEvaluationOut(
            request_id=request.id,
            concerns=Concerns.model_validate(request.concerns).root,
            requested_at=request.requested_at,
        )
        if request is not None
        else None
    )
    return ResolutionOut(
        outcome=ObjectionOutcome(objection.status),  # only a final status has a resolution
        reason=objection.decision_reason or "",
        decided_at=objection.decided_at,
        decided_by=objection.decided_by or "",
        re_evaluation=re_evaluation,
    )


def summary(objection: Objection) -> ObjectionSummary:
    return ObjectionSummary(
        id=objection.id,
        team_id=objection.team_id,
        decision=_decision(objection),
        stage_id=objection.stage_id,
        status=objection.status,
        current_version=objection.current_version,
        filed_at=objection.filed_at,
        updated_at=objection.updated_at,
    )


async def versions_out(ctx: GrievanceCtx, objection: Objection) -> VersionList:
    by_version: dict[int, list[AttachmentOut]] = {}
    for a in await repository.attachments(ctx.session, objection.id):
        by_version.setdefault(a.version, []).append(_attachment(a))
    return VersionList(
        items=[
            _version(v, by_version.get(v.version, []))
            for v in await repository.versions(ctx.session, objection.id)
        ]
    )


def _version(version: ObjectionVersion, attachments: list[AttachmentOut]) -> VersionOut:
    return VersionOut(
        version=version.version,
        grounds=version.grounds,
        statement=version.statement,
        attachments=attachments,
        created_at=version.created_at,
        created_by=version.created_by,
    )
