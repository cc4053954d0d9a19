"""After a stage: team statuses follow the final result; vacancies open an additional selection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fmc_common.errors import Conflict, NotFound
from fmc_common.events.registry import AdditionalSelectionOpened, AdditionalTeamSelected
from fmc_common.events.scoring import StageFinalized, StageReopened, StageResultsPublished
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


class StageAlreadyFinal(Conflict):
    code = "stage-already-final"
    title = "A different final result for a stage that is final and not reopened"


async def on_results_published(ctx: RegistryCtx, event: StageResultsPublished) -> None:
    """Scoring published a stage's result: the stage leaves ``evaluating`` (statuses wait for the final)."""
    stage = await programmes.get_stage(ctx, event.stage_id, lock=True)
    if stage.programme_id != event.programme_id:
        raise StageMismatch(f"stage {stage.id} is not in programme {event.programme_id}")
    if stage.status in (StageStatus.RESULTS_PUBLISHED, StageStatus.FINAL, StageStatus.REOPENED):
        # A later version (a re-evaluation, or a correction after a reopening: ``corrects_version``)
        # changes no status here: the stage already left evaluating, and team statuses wait for the
        # next StageFinalized.
        return
    await programmes.transition_stage(
        ctx, stage, StageStatus.RESULTS_PUBLISHED, "results published by scoring"
    )


async def on_stage_reopened(ctx: RegistryCtx, event: StageReopened) -> None:
    """Scoring reopened a final stage for a correction: the stage is ``reopened`` until finalised again.

    Team statuses keep the outcome in force until that finalisation.
    """
    stage = await programmes.get_stage(ctx, event.stage_id, lock=True)
    if stage.programme_id != event.programme_id:
        raise StageMismatch(f"stage {stage.id} is not in programme {event.programme_id}")
    if stage.status == StageStatus.REOPENED:
        return  # the same reopening sent again (a new envelope): already applied
    await programmes.transition_stage(
        ctx,
        stage,
        StageStatus.REOPENED,
        f"reopened by scoring for a correction: {event.reason}",
        details={
            "reopening_id": str(event.reopening_id),
            "reopened_by": event.reopened_by,
            "version_in_force": event.version,
        },
    )


async def on_stage_finalized(ctx: RegistryCtx, event: StageFinalized) -> SelectionCall | None:
    """Apply a final stage result: statuses, stage final, and a call if fewer advanced than planned.

    After a reopening the result may correct the first one (``_apply_correction``); for a stage
    already final, the same result again changes nothing and a different one is refused.
    """
    stage = await programmes.get_stage(ctx, event.stage_id, lock=True)
    if stage.programme_id != event.programme_id:
        raise StageMismatch(f"stage {stage.id} is not in programme {event.programme_id}")
    outcome = _outcome(event)
    if stage.status == StageStatus.FINAL:
        differing = [t for t in await _differing(ctx, stage, outcome) if not _moved_on(t, stage)]
        if differing:
            raise StageAlreadyFinal(
                f"stage {stage.number} is final and was not reopened; the result received differs for "
                f"{len(differing)} team(s)",
                team_ids=[str(t.id) for t in differing],
            )
        return None  # the same final result again: nothing to change
    if stage.status == StageStatus.REOPENED:
        return await _apply_correction(ctx, stage, event, outcome)
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


Outcome = tuple[TeamStatus, EliminationReason | None]


def _outcome(event: StageFinalized) -> dict[uuid.UUID, Outcome]:
    """Each team's outcome in the event (an unknown reason code is refused: ValueError)."""
    outcome: dict[uuid.UUID, Outcome] = {t: (TeamStatus.ADVANCED, None) for t in event.advancing_team_ids}
    for elimination in event.eliminated:
        outcome[elimination.team_id] = (TeamStatus.ELIMINATED, EliminationReason(elimination.reason_code))
    return outcome


async def _differing(ctx: RegistryCtx, stage: Stage, outcome: dict[uuid.UUID, Outcome]) -> list[Team]:
    """The teams whose status in the registry is not the outcome given (for this stage)."""
    differing = []
    for team_id, (status, code) in outcome.items():
        team = await teams.get_team(ctx, team_id)
        if (team.status, team.elimination_reason, team.stage_number) != (status, code, stage.number):
            differing.append(team)
    return differing


def _moved_on(team: Team, stage: Stage) -> bool:
    """Whether the team is no longer where the stage left it (in, advanced from or eliminated in it)."""
    here = (TeamStatus.IN_STAGE, TeamStatus.ADVANCED, TeamStatus.ELIMINATED)
    return team.stage_number != stage.number or team.status not in here


async def _apply_correction(
    ctx: RegistryCtx, stage: Stage, event: StageFinalized, outcome: dict[uuid.UUID, Outcome]
) -> SelectionCall | None:
    """A reopened stage is final again: correct the teams it decided, then the vacancies.

    A team still as the stage left it (advanced from or eliminated in it) takes the corrected outcome
    (``TEAM_CORRECTIONS``, audited ``team.status-corrected``). A team that has moved on since (entered
    the next stage, selected again, withdrew) is left as it is and listed in a
    ``stage.correction-not-applied`` audit entry for the operators.
    """
    await programmes.transition_stage(
        ctx, stage, StageStatus.FINAL, "stage finalised again by scoring after a reopening"
    )
    why = f"stage {stage.number} corrected result"
    moved_on: list[dict[str, str | int | None]] = []
    newly_eliminated: list[uuid.UUID] = []
    for team in await _differing(ctx, stage, outcome):
        status, code = outcome[team.id]
        if team.status == TeamStatus.IN_STAGE and team.stage_number == stage.number:
            await teams.change_status(ctx, team, status, reason_code=code, reason=why)
        elif (
            team.status in (TeamStatus.ADVANCED, TeamStatus.ELIMINATED) and team.stage_number == stage.number
        ):
            await teams.correct_outcome(ctx, team, status, reason_code=code, reason=why)
        else:
            moved_on.append(
                {
                    "team_id": str(team.id),
                    "status": team.status,
                    "stage_number": team.stage_number,
                    "corrected_to": status,
                    "reason_code": code,
                }
            )
            continue
        if status == TeamStatus.ELIMINATED:
            newly_eliminated.append(team.id)
    if moved_on:
        await audit.record(
            ctx,
            action="stage.correction-not-applied",
            entity_type="stage",
            entity_id=stage.id,
            reason=f"{why}: these teams have moved on since the stage was first final; an operator decides",
            details={"teams": moved_on},
        )
    return await _vacancies_after_correction(ctx, stage, len(event.advancing_team_ids), newly_eliminated)


async def _vacancies_after_correction(
    ctx: RegistryCtx, stage: Stage, advancing: int, newly_eliminated: list[uuid.UUID]
) -> SelectionCall | None:
    """No call for the stage yet and a vacancy now: open one. A call already opened (one per stage) is
    kept as it is, with a ``selection.vacancies-changed`` note if the corrected count differs; if it
    is open, the teams the correction eliminated may apply to it."""
    vacancies = stage.planned_advancing - advancing
    next_stage = await programmes_repository.stage_by_number(
        ctx.session, stage.programme_id, stage.number + 1
    )
    if next_stage is None:
        return None
    call = await repository.call_of_stage(ctx.session, stage.id, lock=True)
    if call is None:
        return await _open_call(ctx, stage, vacancies) if vacancies > 0 else None
    if call.status == CallStatus.OPEN:
        known = {e.team_id for e in await repository.eligibility(ctx.session, call.id)}
        added = sorted(t for t in newly_eliminated if t not in known)
        ctx.session.add_all(
            SelectionEligibility(call_id=call.id, team_id=t, basis=EligibilityBasis.ELIMINATED_IN_STAGE)
            for t in added
        )
        await ctx.session.flush()
        if added:
            await audit.record(
                ctx,
                action="selection.eligibility-added",
                entity_type="selection-call",
                entity_id=call.id,
                reason=f"eliminated by the stage {stage.number} corrected result",
                details={"team_ids": [str(t) for t in added]},
            )
    if max(vacancies, 0) != call.vacancies:
        await audit.record(
            ctx,
            action="selection.vacancies-changed",
            entity_type="selection-call",
            entity_id=call.id,
            reason=(
                f"the stage {stage.number} corrected result leaves {max(vacancies, 0)} vacancy(ies); "
                f"the call ({call.status}) keeps its {call.vacancies}: an operator decides"
            ),
            details={
                "stage_id": str(stage.id),
                "call_vacancies": call.vacancies,
                "corrected_vacancies": max(vacancies, 0),
                "call_status": call.status,
            },
        )
    return None


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
