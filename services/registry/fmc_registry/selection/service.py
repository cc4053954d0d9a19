"""After a stage: team statuses follow the final result; vacancies open an additional selection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fmc_common.errors import Conflict, NotFound
from fmc_common.events.registry import AdditionalSelectionOpened, AdditionalTeamSelected
from fmc_common.events.scoring import StageFinalized, StageResultsPublished
from fmc_registry.audit import service as audit
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import EliminationReason, StageStatus, TeamStatus
from fmc_registry.programmes import repository as programmes_repository
from fmc_registry.programmes import service as programmes
from fmc_registry.programmes.models import Stage
from fmc_registry.selection import repository
from fmc_registry.selection.models import (
    CallStatus,
    EligibilityBasis,
    SelectionApplication,
    SelectionCall,
    SelectionEligibility,
)
from fmc_registry.support import service as support
from fmc_registry.support.errors import GpuAllocationOverlap, GpuSupplierConflict
from fmc_registry.support.models import GpuAllocation
from fmc_registry.teams import repository as teams_repository
from fmc_registry.teams import service as teams
from fmc_registry.teams.models import Team


class CallNotFound(NotFound):
    code = "selection-call-not-found"
    title = "No such additional-selection call"


class CallClosed(Conflict):
    code = "selection-call-closed"
    title = "This additional-selection call is closed"


class NotEligible(Conflict):
    code = "selection-ineligible"
    title = "This team may not apply to this additional selection"


class NotAnApplicant(Conflict):
    code = "selection-not-an-applicant"
    title = "Only a team that applied can be selected"


class StageMismatch(Conflict):
    code = "stage-finalized-mismatch"
    title = "The finalised stage does not belong to the programme named"


async def on_results_published(ctx: RegistryCtx, event: StageResultsPublished) -> None:
    """Scoring published a stage's result: the stage leaves ``evaluating`` (statuses wait for the final)."""
    stage = await programmes.get_stage(ctx, event.stage_id, lock=True)
    if stage.programme_id != event.programme_id:
        raise StageMismatch(f"stage {stage.id} is not in programme {event.programme_id}")
    if stage.status in (StageStatus.RESULTS_PUBLISHED, StageStatus.FINAL):
        return  # a re-publication after an accepted objection: the stage already left evaluating
    await programmes.transition_stage(
        ctx, stage, StageStatus.RESULTS_PUBLISHED, "results published by scoring"
    )


async def on_stage_finalized(ctx: RegistryCtx, event: StageFinalized) -> SelectionCall | None:
    """Apply a final stage result: statuses, stage final, and a call if fewer advanced than planned."""
    stage = await programmes.get_stage(ctx, event.stage_id, lock=True)
    if stage.programme_id != event.programme_id:
        raise StageMismatch(f"stage {stage.id} is not in programme {event.programme_id}")
    if stage.status == StageStatus.EVALUATING:
        await programmes.transition_stage(
            ctx, stage, StageStatus.RESULTS_PUBLISHED, "results published by scoring"
        )
    await programmes.transition_stage(ctx, stage, StageStatus.FINAL, "stage finalised by scoring")
    why = f"stage {stage.number} final result"
    for team_id in event.advancing_team_ids:
        await teams.change_status(ctx, await teams.get_team(ctx, team_id), TeamStatus.ADVANCED, reason=why)
    for elimination in event.eliminated:
        team = await teams.get_team(ctx, elimination.team_id)
        code = EliminationReason(elimination.reason_code)
        await teams.change_status(ctx, team, TeamStatus.ELIMINATED, reason_code=code, reason=why)
    vacancies = stage.planned_advancing - len(event.advancing_team_ids)
    next_stage = await programmes_repository.stage_by_number(
        ctx.session, stage.programme_id, stage.number + 1
    )
    if vacancies <= 0 or next_stage is None:
        return None
    return await _open_call(ctx, stage, vacancies)


async def _open_call(ctx: RegistryCtx, stage: Stage, vacancies: int) -> SelectionCall:
    now = ctx.clock.now()
    call = SelectionCall(
        id=uuid.uuid4(),
        programme_id=stage.programme_id,
        stage_id=stage.id,
        vacancies=vacancies,
        status=CallStatus.OPEN,
        opened_at=now,
    )
    ctx.session.add(call)
    await ctx.session.flush()
    eligible: dict[uuid.UUID, EligibilityBasis] = {}
    for team in await repository.eliminated_in(ctx.session, stage.programme_id, stage.number):
        eligible[team.id] = EligibilityBasis.ELIMINATED_IN_STAGE
    for team in await repository.preliminary_review_applicants(ctx.session, stage.programme_id):
        eligible.setdefault(team.id, EligibilityBasis.PRELIMINARY_REVIEW)
    ctx.session.add_all(
        SelectionEligibility(call_id=call.id, team_id=team_id, basis=basis)
        for team_id, basis in eligible.items()
    )
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="selection.call-opened",
        entity_type="selection-call",
        entity_id=call.id,
        reason=f"{vacancies} fewer team(s) advanced from stage {stage.number} than planned",
        details={
            "stage_id": str(stage.id),
            "vacancies": vacancies,
            "eligible": [str(t) for t in sorted(eligible)],
        },
    )
    await ctx.outbox.add(
        ctx.session,
        AdditionalSelectionOpened(
            call_id=call.id,
            programme_id=stage.programme_id,
            stage_id=stage.id,
            vacancies=vacancies,
            eligible_team_ids=sorted(eligible),
            opened_at=now,
        ),
    )
    return call


async def calls_of(ctx: RegistryCtx, programme_id: uuid.UUID) -> list[SelectionCall]:
    await programmes.get_programme(ctx, programme_id)
    return await repository.calls_of(ctx.session, programme_id)


async def get_call(ctx: RegistryCtx, call_id: uuid.UUID, *, lock: bool = False) -> SelectionCall:
    call = await repository.call(ctx.session, call_id, lock=lock)
    if call is None:
        raise CallNotFound(f"no additional-selection call with id {call_id}")
    return call


async def apply(ctx: RegistryCtx, call_id: uuid.UUID, team_id: uuid.UUID) -> SelectionApplication:
    """Eligible: eliminated in the stage, preliminary-review consortia, the programme's other
    applicants, and teams registered since the call opened."""
    call = await get_call(ctx, call_id, lock=True)
    if call.status != CallStatus.OPEN:
        raise CallClosed("the call is closed")
    team = await teams.get_team(ctx, team_id)
    existing = await repository.application(ctx.session, call.id, team.id)
    if existing is not None:
        return existing
    basis = await _basis(ctx, call, team)
    application = SelectionApplication(
        call_id=call.id, team_id=team.id, basis=basis, applied_at=ctx.clock.now(), selected=False
    )
    ctx.session.add(application)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="selection.applied",
        entity_type="selection-call",
        entity_id=call.id,
        details={"team_id": str(team.id), "basis": basis},
    )
    return application


async def _basis(ctx: RegistryCtx, call: SelectionCall, team: Team) -> EligibilityBasis:
    known = {e.team_id: e.basis for e in await repository.eligibility(ctx.session, call.id)}
    if team.id in known:
        return known[team.id]
    if team.programme_id == call.programme_id and team.status == TeamStatus.APPLICANT:
        if team.registered_at >= call.opened_at:
            return EligibilityBasis.NEW_APPLICANT
        return EligibilityBasis.EARLIER_APPLICANT
    raise NotEligible(
        f"team {team.name!r} is neither eliminated in this stage, a preliminary-review consortium, "
        "nor an applicant of the programme",
        team_status=team.status,
        eligible_bases=[b.value for b in EligibilityBasis],
    )


@dataclass(frozen=True)
class Selection:
    team: Team
    gpu_allocation: GpuAllocation | None
    gpu_refusal: str | None


async def select(ctx: RegistryCtx, call_id: uuid.UUID, team_id: uuid.UUID, reason: str) -> Selection:
    """The operator's choice: the team joins the next stage on the advancing teams' GPU terms."""
    call = await get_call(ctx, call_id, lock=True)
    if call.status != CallStatus.OPEN:
        raise CallClosed("the call is closed")
    application = await repository.application(ctx.session, call.id, team_id)
    if application is None:
        raise NotAnApplicant("the team did not apply to this call")
    stage = await programmes.get_stage(ctx, call.stage_id)
    team = await teams.change_status(
        ctx, await teams.get_team(ctx, team_id), TeamStatus.SELECTED, reason=reason
    )
    application.selected = True
    next_stage = await programmes_repository.stage_by_number(
        ctx.session, stage.programme_id, stage.number + 1
    )
    if next_stage is not None and next_stage.status == StageStatus.OPEN:
        await teams.change_status(
            ctx,
            team,
            TeamStatus.IN_STAGE,
            stage_number=next_stage.number,
            reason="joined by additional selection",
        )
    allocation, refusal = await _equal_gpu_terms(ctx, team, stage)
    if sum(a.selected for a in await repository.applications(ctx.session, call.id)) >= call.vacancies:
        call.status = CallStatus.CLOSED
        call.closed_at = ctx.clock.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="selection.team-selected",
        entity_type="selection-call",
        entity_id=call.id,
        reason=reason,
        details={"team_id": str(team.id), "gpu_refusal": refusal, "call_status": call.status},
    )
    await ctx.outbox.add(
        ctx.session,
        AdditionalTeamSelected(
            call_id=call.id,
            programme_id=call.programme_id,
            stage_id=stage.id,
            team_id=team.id,
            selected_at=ctx.clock.now(),
        ),
    )
    return Selection(team=team, gpu_allocation=allocation, gpu_refusal=refusal)


async def _equal_gpu_terms(
    ctx: RegistryCtx, team: Team, stage: Stage
) -> tuple[GpuAllocation | None, str | None]:
    peers = [
        t.id
        for t in await teams_repository.of_programme(ctx.session, stage.programme_id)
        if t.id != team.id
        and (
            (t.status == TeamStatus.ADVANCED and t.stage_number == stage.number)
            or (t.status == TeamStatus.IN_STAGE and t.stage_number == stage.number + 1)
        )
    ]
    try:
        return await support.allocate_like_advancing(ctx, team, peers), None
    except (GpuSupplierConflict, GpuAllocationOverlap) as refusal:
        # Selected all the same: a supplier's GPU support waits for the end of its contract, and a
        # team that already holds GPUs for that period keeps them.
        return None, refusal.code
