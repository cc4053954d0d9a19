"""Filing and amending objections: only inside the team's window, idempotent on the client's key.

Both lock the team's notification row first (the closing scheduler locks it too), so a filing
either commits before its window is closed or sees the closing and is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from fmc_common.auth import Role
from fmc_common.errors import Forbidden, IdempotencyKeyReused, InvalidInput
from fmc_common.events.grievance import DecisionKind, ObjectionFiled
from fmc_common.idempotency import IdempotentRequest
from fmc_grievance.audit import service as audit
from fmc_grievance.audit.models import AuditEntry
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.notifications import repository as notifications
from fmc_grievance.notifications.models import Notification
from fmc_grievance.objections import attachments as checks
from fmc_grievance.objections import repository
from fmc_grievance.objections.errors import (
    IllegalObjectionTransition,
    ObjectionNotFound,
    ObjectionWindowClosed,
    ObjectionWindowNotOpen,
)
from fmc_grievance.objections.models import (
    OPEN_STATUSES,
    Objection,
    ObjectionStatus,
    ObjectionVersion,
    VersionAttachment,
)
from fmc_grievance.objections.schemas import AttachmentIn, ObjectionAmend, ObjectionContent, ObjectionCreate
from fmc_grievance.windows import repository as closings
from fmc_grievance.windows.deadline import WindowState
from fmc_grievance.windows.schemas import deadline_fields


async def file(ctx: GrievanceCtx, body: ObjectionCreate, client_key: str) -> Objection:
    """A team objects to a decision it was notified of; a retry with the same key gets the same objection."""
    team_id = _own_team(ctx)
    keys = repository.FilingKeys(ctx.session, team_id)
    request = IdempotentRequest(keys, client_key, body.model_dump(mode="json"), what="filing")
    existing = await request.replay()
    if existing is not None:
        return existing
    kind = body.decision.kind
    notification = await _window_to_file_in(ctx, kind, body.decision.id, team_id)
    await ensure_open(ctx, notification, f"{kind} {body.decision.id}")
    assert notification is not None
    # Another request with the same key may have committed while this one waited for the lock.
    existing = await request.replay()
    if existing is not None:
        return existing
    objection = _new_objection(ctx, notification, team_id, client_key, request.fingerprint)
    raced = await _insert_once(ctx, objection)
    if raced:
        # The same key raced in for another decision: the first one won.
        replayed = await request.replay()
        if replayed is None:
            raise IdempotencyKeyReused(f"the key {client_key!r} is being used for another filing")
        return replayed
    version = await _add_version(ctx, objection, 1, body, client_key, request.fingerprint)
    await _audit_version(ctx, objection, version, "objection.filed")
    await ctx.outbox.add(
        ctx.session,
        ObjectionFiled(
            stage_id=objection.stage_id,
            decision_kind=kind,
            decision_id=objection.decision_id,
            objection_id=objection.id,
            team_id=team_id,
            grounds=body.grounds,
            attachment_count=len(body.attachments),
            filed_at=objection.filed_at,
        ),
    )
    return objection


async def amend(
    ctx: GrievanceCtx, objection_id: uuid.UUID, body: ObjectionAmend, client_key: str
) -> Objection:
    """A new complete version of the team's own objection, until its window closes or it is decided."""
    _own_team(ctx)
    objection = await readable(ctx, objection_id)
    keys = repository.AmendmentKeys(ctx.session, objection_id)
    request = IdempotentRequest(keys, client_key, body.model_dump(mode="json"), what="amendment")
    if await request.replay() is not None:
        return objection
    notification = await notifications.get(ctx.session, objection.notification_id, lock=True)
    await ensure_open(ctx, notification, f"{objection.decision_kind} {objection.decision_id}")
    if await request.replay() is not None:
        return objection
    if objection.status not in OPEN_STATUSES:
        raise IllegalObjectionTransition(
            f"an objection that is {objection.status} cannot be amended", status=objection.status
        )
    number = await repository.next_version(ctx.session, objection_id, ctx.clock.now())
    version = await _add_version(ctx, objection, number, body, client_key, request.fingerprint)
    await _audit_version(ctx, objection, version, "objection.amended")
    await ctx.session.refresh(objection)
    return objection


async def _window_to_file_in(
    ctx: GrievanceCtx, kind: DecisionKind, decision_id: uuid.UUID, team_id: uuid.UUID
) -> Notification | None:
    """The team's latest notification whose window is open now (locked); else its latest one.

    A team notified again (a reversal, a reopening) objects in its latest open window; with none
    open, the latest notification says why (closed, or not open yet), or there is none at all.
    """
    notified = await notifications.of_team(ctx.session, kind, decision_id, team_id, lock=True)
    now = ctx.clock.now()
    for notification in notified:
        open_now = notifications.window_of(notification).state(now) == WindowState.OPEN
        if open_now and await closings.window_closing(ctx.session, notification.id) is None:
            return notification
    return notified[0] if notified else None


async def readable(ctx: GrievanceCtx, objection_id: uuid.UUID, *, lock: bool = False) -> Objection:
    """The objection, if the caller may see it: operators any, a team only its own (others: 403)."""
    objection = await repository.get(ctx.session, objection_id, lock=lock)
    if objection is None:
        raise ObjectionNotFound(f"no objection with id {objection_id}")
    if ctx.actor.role == Role.OPERATOR:
        return objection
    if ctx.actor.role == Role.TEAM and ctx.actor.team_id == objection.team_id:
        return objection
    raise Forbidden("a team may see only its own objections")


async def ensure_open(ctx: GrievanceCtx, notification: Notification | None, decision: str) -> None:
    """Refuse unless the window is open now and was not closed by the scheduler (deadline in the body)."""
    if notification is None:
        raise ObjectionWindowNotOpen(
            f"the team has not been notified of {decision}: its window opens when it is notified"
        )
    window = notifications.window_of(notification)
    state = window.state(ctx.clock.now())
    closed = await closings.window_closing(ctx.session, notification.id)
    if state == WindowState.CLOSED or closed is not None:
        raise ObjectionWindowClosed(
            f"the objection window closed after {window.deadline.isoformat()} ({window.time_zone})",
            **deadline_fields(window),
        )
    if state == WindowState.NOT_OPEN:
        raise ObjectionWindowNotOpen(
            f"the objection window opens at {window.local(window.opens_at).isoformat()} ({window.time_zone})",
            **deadline_fields(window),
        )


async def history(
    ctx: GrievanceCtx, objection_id: uuid.UUID, *, after: int | None, limit: int
) -> list[AuditEntry]:
    """The objection's audit entries in order, if the caller may see the objection."""
    objection = await readable(ctx, objection_id)
    return await audit.page(ctx.session, entity_id=str(objection.id), after=after, limit=limit)


def _new_objection(
    ctx: GrievanceCtx, notification: Notification, team_id: uuid.UUID, client_key: str, fingerprint: str
) -> Objection:
    now = ctx.clock.now()
    return Objection(
        id=uuid.uuid4(),
        notification_id=notification.id,
        team_id=team_id,
        decision_kind=notification.decision_kind,
        decision_id=notification.decision_id,
        stage_id=notification.stage_id,
        client_key=client_key,
        request_hash=fingerprint,
        status=ObjectionStatus.RECEIVED,
        current_version=1,
        filed_at=now,
        filed_by=ctx.actor.subject,
        updated_at=now,
    )


async def _insert_once(ctx: GrievanceCtx, objection: Objection) -> bool:
    """Insert the objection; True if another transaction took its (team, client key) first.

    Only PostgreSQL runs filings concurrently, so only there can the key race, and a savepoint
    keeps the transaction usable. (SQLite serialises transactions; its driver would also turn a
    savepoint opened before any write into the outer transaction and commit it on release.)
    """
    if ctx.session.get_bind().dialect.name != "postgresql":
        ctx.session.add(objection)
        await ctx.session.flush()
        return False
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(objection)
            await ctx.session.flush()
    except IntegrityError:
        return True
    return False


def _own_team(ctx: GrievanceCtx) -> uuid.UUID:
    ctx.actor.require(Role.TEAM)
    assert ctx.actor.team_id is not None  # a team token always carries its team
    return ctx.actor.team_id


async def _add_version(
    ctx: GrievanceCtx,
    objection: Objection,
    number: int,
    content: ObjectionContent,
    client_key: str,
    fingerprint: str,
) -> ObjectionVersion:
    version = ObjectionVersion(
        objection_id=objection.id,
        version=number,
        grounds=content.grounds,
        statement=content.statement,
        created_at=ctx.clock.now(),
        created_by=ctx.actor.subject,
        client_key=client_key,
        request_hash=fingerprint,
    )
    ctx.session.add(version)
    await ctx.session.flush()
    for position, attachment in enumerate(await _attachments(ctx, objection.id, content.attachments)):
        ctx.session.add(
            VersionAttachment(
                objection_id=objection.id,
                version=number,
                position=position,
                name=attachment.name,
                media_type=attachment.media_type,
                size=attachment.size,
                sha256=attachment.sha256,
            )
        )
    await ctx.session.flush()
    return version


async def _attachments(
    ctx: GrievanceCtx, objection_id: uuid.UUID, given: Sequence[AttachmentIn]
) -> list[checks.CheckedAttachment]:
    """New content is checked and stored; a sha256 must name an attachment this objection already has."""
    limits = checks.AttachmentLimits(
        ctx.settings.attachment_max_bytes, ctx.settings.attachment_max_count, ctx.settings.attachment_types
    )
    checks.check_count(len(given), limits)
    known = {a.sha256: a for a in await repository.attachments(ctx.session, objection_id)}
    result: list[checks.CheckedAttachment] = []
    for item in given:
        if item.content_base64 is not None:
            checked = checks.check(
                item.name, item.media_type, _decode(item.name, item.content_base64), limits
            )
            await repository.store_blob(ctx.session, checked.sha256, checked.content, ctx.clock.now())
        else:
            previous = known.get(item.sha256 or "")
            if previous is None:
                raise InvalidInput(f"{item.name!r}: no attachment with that sha256 on this objection")
            if previous.media_type != item.media_type.strip().lower():
                raise checks.AttachmentTypeNotAllowed(f"{item.name!r} was attached as {previous.media_type}")
            checked = checks.CheckedAttachment(
                checks.check_name(item.name), previous.media_type, previous.size, previous.sha256, b""
            )
        result.append(checked)
    return result


def _decode(name: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{name!r}: content_base64 is not valid base64") from exc


async def _audit_version(
    ctx: GrievanceCtx, objection: Objection, version: ObjectionVersion, action: str
) -> None:
    listed = await repository.attachments(ctx.session, objection.id, version.version)
    await audit.record(
        ctx,
        action=action,
        entity_type="objection",
        entity_id=objection.id,
        team_id=objection.team_id,
        details={
            "version": version.version,
            "grounds": version.grounds,
            "decision_kind": objection.decision_kind,
            "decision_id": str(objection.decision_id),
            "statement_sha256": hashlib.sha256(version.statement.encode()).hexdigest(),
            "attachments": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in listed],
        },
    )
