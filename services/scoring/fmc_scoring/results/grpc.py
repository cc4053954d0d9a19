"""gRPC adapters over the same result views as REST: the public outcome and a team's own figures."""

from __future__ import annotations

import uuid

from fmc_common.auth import Actor, Role
from fmc_common.db import transaction
from fmc_common.errors import AppError, InvalidInput, NotFound
from fmc_common.grpc_support import ServicerContext, abort_with, actor_from_metadata, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_protos.scoring.v1 import scoring_pb2
from fmc_scoring.results import finality, repository, service, views


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a UUID") from exc


async def _optional_actor(context: ServicerContext, runtime: ServiceRuntime) -> Actor | None:
    """Public RPCs: no token is fine; a token that is present must be valid."""
    metadata = dict(context.invocation_metadata() or ())
    if "authorization" not in metadata:
        return None
    return await actor_from_metadata(context, runtime.verifier)


class ResultsRpcs:
    """Mixed into the scoring servicer (one servicer class per gRPC service)."""

    _runtime: ServiceRuntime

    async def GetPublicStageResult(
        self, request: scoring_pb2.GetPublicStageResultRequest, context: ServicerContext
    ) -> scoring_pb2.PublicStageResult:
        try:
            await _optional_actor(context, self._runtime)
            stage_id = _uuid(request.stage_id, "stage_id")
            async with transaction(self._runtime.sessions) as session:
                view = await views.public_view(session, await service.published(session, stage_id))
            return scoring_pb2.PublicStageResult(
                stage_id=str(view.stage_id),
                teams=[
                    scoring_pb2.PublicTeamOutcome(
                        team_id=str(t.team_id),
                        team_name=t.team_name,
                        outcome=t.outcome,
                        reason_category=t.reason_category or "",
                    )
                    for t in view.teams
                ],
                final=view.final,
            )
        except AppError as error:
            await abort_with(context, error)
            raise

    async def GetTeamResult(
        self, request: scoring_pb2.GetTeamResultRequest, context: ServicerContext
    ) -> scoring_pb2.TeamResult:
        actor = await authorize(context, self._runtime.verifier, Role.OPERATOR, Role.TEAM)
        try:
            stage_id = _uuid(request.stage_id, "stage_id")
            team_id = _uuid(request.team_id, "team_id")
            actor.require_team(team_id)
            async with transaction(self._runtime.sessions) as session:
                result = await service.published(session, stage_id)
                row = await repository.team_row(session, result.id, team_id)
                if row is None:
                    raise NotFound(f"team {team_id} has no result in stage {stage_id}")
                view = views.team_view(result, row, final=await finality.is_final(session, stage_id))
            return scoring_pb2.TeamResult(
                stage_id=str(view.stage_id),
                version=view.version,
                team_id=str(view.team_id),
                outcome=view.outcome,
                reason=view.reason or "",
                composite=view.composite,
                benchmark=view.benchmark,
                expert=view.expert,
                user=view.user,
                suites=[
                    scoring_pb2.SuiteFigure(
                        suite_key=s.suite_key,
                        suite_version=s.suite_version,
                        run_id=str(s.run_id),
                        accuracy=s.accuracy,
                        ci_low=s.ci_low,
                        ci_high=s.ci_high,
                        items=s.items,
                    )
                    for s in view.suites
                ],
                finalized=view.finalized,
            )
        except AppError as error:
            await abort_with(context, error)
            raise
