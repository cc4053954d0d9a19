"""gRPC methods over the same run functions as REST: GetRun and StreamResponses (server streaming)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fmc_common.auth import Role
from fmc_common.db import transaction
from fmc_common.errors import AppError, InvalidInput
from fmc_common.events.inference import RunEfficiency
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_gateway.runs import repository, service
from fmc_gateway.runs.models import ItemRecord, Run
from fmc_protos.gateway.v1 import gateway_pb2

STREAM_PAGE = 500


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def run_message(run: Run) -> gateway_pb2.Run:
    return gateway_pb2.Run(
        run_id=str(run.id),
        stage_id=str(run.stage_id),
        submission_id=str(run.submission_id),
        team_id=str(run.team_id),
        status=run.status,
        status_reason=run.status_reason or "",
        failure_code=run.failure_code or "",
        total=run.total,
        answered=run.answered,
        errored=run.errored,
        gpu_pool=run.gpu_pool,
        hardware_class=run.hardware_class,
        server_version=run.server_version or "",
        model_version=run.model_version or "",
        responses_sha256=run.responses_sha256 or "",
        stuck_since=_time(run.stuck_since),
        suite_id=run.suite_id,
        suite_version=run.suite_version,
        suite_hash=run.suite_hash,
        efficiency=None if run.efficiency is None else efficiency_message(run.efficiency),
    )


def efficiency_message(stored: dict[str, Any]) -> gateway_pb2.RunEfficiency:
    """The run's stored summary; an unknown part stays absent (proto3 ``optional``)."""
    summary = RunEfficiency.model_validate(stored).model_dump(exclude_none=True)
    return gateway_pb2.RunEfficiency(**summary)


def response_message(record: ItemRecord) -> gateway_pb2.ItemResponse:
    return gateway_pb2.ItemResponse(
        item_id=record.item_id,
        seq=record.seq,
        status=record.status,
        text=record.text or "",
        prompt_tokens=record.prompt_tokens or 0,
        completion_tokens=record.completion_tokens or 0,
        error=record.error or "",
        latency_ms=record.latency_ms,
        attempts=record.attempts,
        server_version=record.server_version,
        model_version=record.model_version,
        started_at=_time(record.started_at),
        finished_at=_time(record.finished_at),
        ttft_ms=record.ttft_ms,
        tokens_per_second=record.tokens_per_second,
    )


def _run_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput("run_id must be a UUID") from exc


class RunsRpc:
    """Mixed into the gateway's servicer (one gRPC service per proto)."""

    _runtime: ServiceRuntime

    async def GetRun(self, request: gateway_pb2.GetRunRequest, context: ServicerContext) -> gateway_pb2.Run:
        actor = await authorize(context, self._runtime.verifier, Role.OPERATOR, Role.SERVICE, Role.TEAM)
        try:
            async with transaction(self._runtime.sessions) as session:
                return run_message(await service.get_run(session, _run_id(request.run_id), actor))
        except AppError as error:
            await abort_with(context, error)
            raise

    async def StreamResponses(
        self, request: gateway_pb2.StreamResponsesRequest, context: ServicerContext
    ) -> AsyncIterator[gateway_pb2.ItemResponse]:
        actor = await authorize(context, self._runtime.verifier, Role.OPERATOR, Role.SERVICE, Role.TEAM)
        try:
            run_id = _run_id(request.run_id)
            if request.start_seq < 0:
                raise InvalidInput("start_seq must be >= 0")
            async with transaction(self._runtime.sessions) as session:
                await service.get_run(session, run_id, actor)
        except AppError as error:
            await abort_with(context, error)
            raise
        after = request.start_seq - 1
        while True:
            # One short transaction per page: a long stream never holds the database.
            async with transaction(self._runtime.sessions) as session:
                records = await repository.page_responses(session, run_id, after, STREAM_PAGE)
            for record in records:
                yield response_message(record)
            if len(records) < STREAM_PAGE:
                return
            after = records[-1].seq
