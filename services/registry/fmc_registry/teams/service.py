"""Teams: registration and the audited status lifecycle. One behaviour shared by REST, gRPC and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common import db
from fmc_common.errors import Conflict, InvalidInput, NotFound
from fmc_common.events.registry import TeamRegistered, TeamStatusChanged
from fmc_common.pagination import after_id, next_cursor
from fmc_registry.audit import service as audit
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import TEAM_CORRECTIONS, TEAM_LIFECYCLE, EliminationReason, TeamStatus
from fmc_registry.organisations import service as organisations
from fmc_registry.organisations.models import OrganisationKind, ProgrammeRole
from fmc_registry.programmes import repository as programmes
from fmc_registry.programmes.errors import ProgrammeNotFound
from fmc_registry.teams import repository
from fmc_registry.teams.models import MemberRole, Team, TeamMember


class TeamNameTaken(Conflict):
    code = "team-name-taken"
    title = "A team with this name is already registered"


class TeamNotFound(NotFound):
    code = "team-not-found"
    title = "No such team"


@dataclass(frozen=True)
class Application:
    """What an applicant consortium tells the programme (everything but the names is optional)."""

    name: str
    lead_organisation: str
    programme_id: uuid.UUID | None = None
    members: Sequence[str] = field(default_factory=tuple)
    applicant_rank: int | None = None
    preliminary_review: bool = False
    talent_support_applied: bool = False


async def register_team(ctx: RegistryCtx, application: Application) -> Team:
    if await repository.get_by_name(ctx.session, application.name) is not None:
        raise TeamNameTaken(f"a team named {application.name!r} is already registered")
    if (
        application.programme_id is not None
        and await programmes.get(ctx.session, application.programme_id) is None
    ):
        raise ProgrammeNotFound(f"no programme with id {application.programme_id}")
    lead = await organisations.get_or_create(
        ctx, name=application.lead_organisation, kind=OrganisationKind.COMPANY
    )
    team = Team(
        id=uuid.uuid4(),
        name=application.name,
        lead_organisation=application.lead_organisation,
        lead_organisation_id=lead.id,
        status=TEAM_LIFECYCLE.initial,
        registered_at=ctx.clock.now(),
        programme_id=application.programme_id,
        applicant_rank=application.applicant_rank,
        preliminary_review=application.preliminary_review,
        talent_support_applied=application.talent_support_applied,
    )
    repository.add(ctx.session, team)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:
        if not db.is_unique_violation(exc):
            raise
        # A concurrent registration of the same name committed between the check and this insert.
        raise TeamNameTaken(f"a team named {application.name!r} is already registered") from exc
    await _add_members(ctx, team, lead.id, application.members)
    await audit.record(
        ctx,
        action="team.registered",
        entity_type="team",
        entity_id=team.id,
        details={"name": team.name, "lead_organisation": team.lead_organisation},
    )
    await ctx.outbox.add(
        ctx.session,
        TeamRegistered(
            team_id=team.id,
            name=team.name,
            lead_organisation=team.lead_organisation,
            registered_at=team.registered_at,
        ),
    )
    return team


async def _add_members(ctx: RegistryCtx, team: Team, lead_id: uuid.UUID, members: Sequence[str]) -> None:
    ctx.session.add(TeamMember(team_id=team.id, organisation_id=lead_id, role=MemberRole.LEAD))
    member_ids: set[uuid.UUID] = {lead_id}
    for name in members:
        organisation = await organisations.get_or_create(ctx, name=name, kind=OrganisationKind.COMPANY)
        if organisation.id in member_ids:
            raise InvalidInput(f"{name!r} is listed twice in the consortium")
        member_ids.add(organisation.id)
        ctx.session.add(TeamMember(team_id=team.id, organisation_id=organisation.id, role=MemberRole.MEMBER))
    await ctx.session.flush()
    if team.programme_id is None:
        return
    for role in (ProgrammeRole.APPLICANT, ProgrammeRole.CONSORTIUM_LEAD):
        await organisations.grant_role(
            ctx, programme_id=team.programme_id, organisation_id=lead_id, role=role
        )
    for member_id in member_ids - {lead_id}:
        await organisations.grant_role(
            ctx,
            programme_id=team.programme_id,
            organisation_id=member_id,
            role=ProgrammeRole.CONSORTIUM_MEMBER,
        )


@dataclass(frozen=True)
class Listing:
    teams: list[Team]
    next_cursor: str | None  # None on the last page


async def page(
    session: AsyncSession,
    cursor: str | None,
    limit: int,
    *,
    programme_id: uuid.UUID | None = None,
    statuses: list[TeamStatus] | None = None,
) -> Listing:
    """Teams in a stable order, a page at a time (REST, the public list and gRPC alike).

    Takes the session, not a context: the public list is read by anonymous callers too.
    """
    rows = await repository.page(
        session, after_id(cursor), limit + 1, programme_id=programme_id, statuses=statuses
    )
    teams = rows[:limit]
    return Listing(teams=teams, next_cursor=next_cursor(teams[-1].id if teams else None, len(rows) > limit))


async def get_team(ctx: RegistryCtx, team_id: uuid.UUID, *, lock: bool = False) -> Team:
    team = await repository.get(ctx.session, team_id, lock=lock)
    if team is None:
        raise TeamNotFound(f"no team with id {team_id}")
    return team


async def join_stage(ctx: RegistryCtx, programme_id: uuid.UUID, number: int) -> list[Team]:
    """Stage ``number`` opened: the selected teams and those advanced from the last stage enter it."""
    joining = await repository.joining_stage(ctx.session, programme_id, number)
    for team in joining:
        await change_status(
            ctx, team, TeamStatus.IN_STAGE, stage_number=number, reason=f"stage {number} opened"
        )
    return joining


async def change_status(
    ctx: RegistryCtx,
    team: Team,
    target: TeamStatus,
    *,
    stage_number: int | None = None,
    reason_code: EliminationReason | None = None,
    reason: str | None = None,
) -> Team:
    """One legal step of the team lifecycle, with its audit row and its event, in the caller's transaction."""
    current = team.status
    TEAM_LIFECYCLE.check(current, target)
    if target == TeamStatus.IN_STAGE and stage_number is None:
        raise InvalidInput("entering a stage needs the stage number")
    if target == TeamStatus.ELIMINATED and reason_code is None:
        raise InvalidInput("an elimination needs a reason code", allowed=[r.value for r in EliminationReason])
    return await _apply(ctx, team, target, stage_number, reason_code, reason, "team.status-changed")


async def correct_outcome(
    ctx: RegistryCtx,
    team: Team,
    target: TeamStatus,
    *,
    reason_code: EliminationReason | None = None,
    reason: str,
) -> Team:
    """A stage finalised again after a reopening corrects the outcome it gave this team.

    Only ``TEAM_CORRECTIONS`` (advanced <-> eliminated, or another elimination reason), audited as
    ``team.status-corrected``; only the stage-result consumer calls it.
    """
    TEAM_CORRECTIONS.check(team.status, target)
    if target == TeamStatus.ELIMINATED and reason_code is None:
        raise InvalidInput("an elimination needs a reason code", allowed=[r.value for r in EliminationReason])
    return await _apply(ctx, team, target, None, reason_code, reason, "team.status-corrected")


async def _apply(
    ctx: RegistryCtx,
    team: Team,
    target: TeamStatus,
    stage_number: int | None,
    reason_code: EliminationReason | None,
    reason: str | None,
    action: str,
) -> Team:
    current = team.status
    now = ctx.clock.now()
    team.status = target
    team.status_changed_at = now
    if target == TeamStatus.IN_STAGE:
        team.stage_number = stage_number
    team.elimination_reason = reason_code if target == TeamStatus.ELIMINATED else None
    await ctx.session.flush()
    await audit.record(
        ctx,
        action=action,
        entity_type="team",
        entity_id=team.id,
        reason=reason,
        details={
            "from": current,
            "to": target,
            "stage_number": team.stage_number,
            "reason_code": team.elimination_reason,
        },
    )
    await ctx.outbox.add(
        ctx.session,
        TeamStatusChanged(
            team_id=team.id,
            programme_id=team.programme_id,
            from_status=current,
            to_status=target,
            stage_number=team.stage_number,
            reason_code=team.elimination_reason,
            changed_at=now,
        ),
    )
    return team
