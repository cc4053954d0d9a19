"""Accepting runs and reading them: one behaviour shared by Kafka (InferenceRunRequested v1 and v2),
REST and gRPC."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.clock import Clock
from fmc_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from fmc_common.events.inference import (
    CHAT_TEMPLATES,
    RAW_TEXT_CONVENTIONS,
    GpuPool,
    InferenceRunFailed,
    InferenceRunWaiting,
    RunEndpoint,
    RunRequest,
    RunScoring,
)
from fmc_common.messaging.outbox import Outbox
from fmc_gateway.endpoints import service as endpoints
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.runs import repository
from fmc_gateway.runs.models import FailureCode, Run, RunStatus
from fmc_gateway.runs.sources import ItemsSources
from fmc_gateway.triton.hosts import TritonHosts


class RunNotFound(NotFound):
    code = "run-not-found"
    title = "No such run"


class UnknownChatTemplate(InvalidInput):
    code = "unknown-chat-template"
    title = "The run endpoint names a chat template the gateway does not have"


class ChatTemplateNotApplicable(InvalidInput):
    code = "chat-template-not-applicable"
    title = "An OpenAI-compatible endpoint applies the model's own chat template"


class RunIdConflict(Conflict):
    code = "run-id-conflict"
    title = "A different run was already requested with this id"


@dataclass(frozen=True)
class Acceptance:
    run: Run
    created: bool
    """False when the same request was accepted before (the run is returned as it stands)."""


def fingerprint(request: RunRequest) -> str:
    body = request.model_dump(mode="json", exclude={"requested_at"})
    if body["endpoint"]["chat_template"] is None:
        # A request without a template is the same as before the field existed (redelivered or not).
        del body["endpoint"]["chat_template"]
    if body["scoring"] == RunScoring.GENERATE:
        del body["scoring"]  # likewise for a request from before the scoring field
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def accept_run(
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    hardware: Mapping[GpuPool, str],
    sources: ItemsSources,
    hosts: TritonHosts,
    request: RunRequest,
) -> Acceptance:
    """Record a requested run (idempotent on its id). It is prepared and answered in the background.

    Items named anywhere but under the gateway's configured sources, or an endpoint on none of its
    Triton servers, or a chat template the gateway does not have (or one for an OpenAI-compatible
    endpoint, whose server applies the model's own), are refused before anything is recorded
    (``UriNotAllowed``, ``TritonHostNotAllowed``, ``UnknownChatTemplate``,
    ``ChatTemplateNotApplicable``): REST and gRPC answer 422, an event is dead-lettered.
    Fairness: every run of a stage on the same suite content must use the same decoding parameters
    and limits as the first; a run that differs is recorded as failed, with the reason, at once.
    """
    sources.check(request.items.uri)
    hosts.check(request.endpoint.url)
    check_chat_template(request.endpoint)
    print_ = fingerprint(request)
    existing = await session.get(Run, request.run_id)
    if existing is not None:
        if existing.request_fingerprint != print_:
            raise RunIdConflict(f"run {request.run_id} was already requested with other parameters")
        return Acceptance(existing, created=False)
    now = clock.now()
    endpoint = await endpoints.register(
        session, hosts, request.endpoint, now, team_id=request.team_id, submission_id=request.submission_id
    )
    run = Run(
        id=request.run_id,
        stage_id=request.stage_id,
        submission_id=request.submission_id,
        team_id=request.team_id,
        endpoint_id=endpoint.id,
        model_name=request.endpoint.model_name,
        chat_template=request.endpoint.chat_template,
        gpu_pool=request.endpoint.gpu_pool,
        hardware_class=hardware.get(request.endpoint.gpu_pool, request.endpoint.gpu_pool),
        suite_id=request.suite.suite_id,
        suite_version=request.suite.version,
        suite_hash=request.suite.content_hash,
        items_uri=request.items.uri,
        items_sha256=request.items.sha256,
        decoding=request.decoding.model_dump(mode="json"),
        limits=request.limits.model_dump(mode="json"),
        scoring=None if request.scoring == RunScoring.GENERATE else request.scoring,
        request_fingerprint=print_,
        status=RunStatus.PENDING,
        total=request.items.item_count,
        answered=0,
        errored=0,
        batched=False,
        requested_at=request.requested_at,
        accepted_at=now,
        last_progress_at=now,
        progress_reported=0,
    )
    session.add(run)
    unfair = await _unfair_reason(session, run)
    if unfair is not None:
        await fail_run(session, outbox, run, FailureCode.UNFAIR_PARAMETERS, unfair, now)
    await session.flush()
    return Acceptance(run, created=True)


def check_chat_template(endpoint: RunEndpoint) -> None:
    """A named chat template must be in the catalogue, and only for a raw-text convention."""
    template = endpoint.chat_template
    if template is None:
        return
    if template not in CHAT_TEMPLATES:
        raise UnknownChatTemplate(
            f"no chat template named {template!r}; the gateway renders {', '.join(CHAT_TEMPLATES)}"
        )
    if endpoint.convention not in RAW_TEXT_CONVENTIONS:
        raise ChatTemplateNotApplicable(
            f"the {endpoint.convention} convention sends the messages to the server, which applies the "
            f"model's own chat template; leave chat_template empty"
        )


async def _unfair_reason(session: AsyncSession, run: Run) -> str | None:
    reference = await session.scalar(
        select(Run)
        .where(
            Run.stage_id == run.stage_id,
            Run.suite_hash == run.suite_hash,
            Run.id != run.id,
            (Run.failure_code.is_(None)) | (Run.failure_code != FailureCode.UNFAIR_PARAMETERS),
        )
        .order_by(Run.accepted_at, Run.id)
        .limit(1)
    )
    if reference is None:
        return None
    if reference.decoding == run.decoding and reference.limits == run.limits:
        return None
    return (
        f"every team of stage {run.stage_id} must be run on suite {run.suite_id} {run.suite_version} with "
        f"the same decoding parameters and limits; run {reference.id} used decoding {reference.decoding} "
        f"and limits {reference.limits}, this request asks decoding {run.decoding} and limits {run.limits}"
    )


async def fail_run(
    session: AsyncSession, outbox: Outbox, run: Run, code: FailureCode, reason: str, now: datetime
) -> None:
    run.status = RunStatus.FAILED
    run.failure_code = code
    run.status_reason = reason
    run.finished_at = now
    await session.flush()
    await outbox.add(
        session,
        InferenceRunFailed(
            run_id=run.id,
            stage_id=run.stage_id,
            submission_id=run.submission_id,
            team_id=run.team_id,
            code=code,
            reason=reason[:4000],
            failed_at=now,
        ),
    )


class WaitCause(StrEnum):
    """Why a run is paused (``InferenceRunWaiting.cause``)."""

    BREAKER_OPEN = "breaker-open"
    ENDPOINT_UNREACHABLE = "endpoint-unreachable"
    ENDPOINT_NOT_ALLOWED = "endpoint-not-allowed"
    ITEMS_SOURCE_UNAVAILABLE = "items-source-unavailable"


async def pause_run(
    session: AsyncSession, outbox: Outbox, run: Run, cause: WaitCause, reason: str, now: datetime
) -> bool:
    """Mark the run WAITING with ``reason``; a run not waiting yet also stages one ``run-waiting`` event
    (once per pause: a run already waiting only has its reason updated). True when the event was staged."""
    starts = run.status != RunStatus.WAITING
    run.status = RunStatus.WAITING
    run.status_reason = reason
    if not starts:
        return False
    await outbox.add(
        session,
        InferenceRunWaiting(
            run_id=run.id,
            stage_id=run.stage_id,
            submission_id=run.submission_id,
            team_id=run.team_id,
            cause=cause,
            reason=reason[:2000],
            total=run.total,
            answered=run.answered,
            waiting_since=now,
        ),
    )
    return True


async def get_run(session: AsyncSession, run_id: uuid.UUID, actor: Actor) -> Run:
    """A run, for operators and services, or for the team whose model it runs."""
    actor.require(Role.OPERATOR, Role.SERVICE, Role.TEAM)
    run = await session.get(Run, run_id)
    if run is None:
        raise RunNotFound(f"no run with id {run_id}")
    if actor.role == Role.TEAM and actor.team_id != run.team_id:
        raise Forbidden("a team may read only its own runs")
    return run


async def endpoint_of(session: AsyncSession, run: Run) -> Endpoint:
    """The endpoint the run answers on (as the API shows it with the run)."""
    return await endpoints.get(session, run.endpoint_id)


async def page_runs(
    session: AsyncSession,
    actor: Actor,
    *,
    after: uuid.UUID | None,
    limit: int,
    stage_id: uuid.UUID | None,
    status: RunStatus | None,
) -> list[tuple[Run, Endpoint]]:
    """Runs in id order with their endpoints; a team sees only its own."""
    actor.require(Role.OPERATOR, Role.SERVICE, Role.TEAM)
    team_id = actor.team_id if actor.role == Role.TEAM else None
    return await repository.page_runs(
        session, after=after, limit=limit, stage_id=stage_id, status=status, team_id=team_id
    )
