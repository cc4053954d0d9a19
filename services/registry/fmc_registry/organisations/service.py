"""Organisations (companies, universities, institutes) and the roles they hold in a programme."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError

from fmc_common import db
from fmc_common.errors import Conflict, NotFound
from fmc_registry.audit import service as audit
from fmc_registry.deps import RegistryCtx
from fmc_registry.organisations import repository
from fmc_registry.organisations.models import Organisation, OrganisationKind, OrganisationRole, ProgrammeRole
from fmc_registry.programmes import service as programmes


class OrganisationNameTaken(Conflict):
    code = "organisation-name-taken"
    title = "An organisation with this name is already registered"


class OrganisationNotFound(NotFound):
    code = "organisation-not-found"
    title = "No such organisation"


async def create(ctx: RegistryCtx, *, name: str, kind: OrganisationKind) -> Organisation:
    if await repository.get_by_name(ctx.session, name) is not None:
        raise OrganisationNameTaken(f"an organisation named {name!r} is already registered")
    return await _insert(ctx, name, kind)


async def get_or_create(ctx: RegistryCtx, *, name: str, kind: OrganisationKind) -> Organisation:
    """The organisation of that name; registered on first mention (a team names its lead by name)."""
    found = await repository.get_by_name(ctx.session, name)
    if found is not None:
        return found
    if ctx.session.get_bind().dialect.name != "postgresql":
        return await _insert(ctx, name, kind)  # SQLite: one writer at a time, no race to lose
    try:
        async with ctx.session.begin_nested():
            return await _insert(ctx, name, kind)
    except IntegrityError as exc:
        # Two teams of one organisation registered at once: the other request created it first.
        found = await repository.get_by_name(ctx.session, name)
        if found is None or not db.is_unique_violation(exc):
            raise
        return found


async def _insert(ctx: RegistryCtx, name: str, kind: OrganisationKind) -> Organisation:
    organisation = Organisation(id=uuid.uuid4(), name=name, kind=kind, created_at=ctx.clock.now())
    ctx.session.add(organisation)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="organisation.registered",
        entity_type="organisation",
        entity_id=organisation.id,
        details={"name": name, "kind": kind},
    )
    return organisation


async def get(ctx: RegistryCtx, organisation_id: uuid.UUID) -> Organisation:
    organisation = await repository.get(ctx.session, organisation_id)
    if organisation is None:
        raise OrganisationNotFound(f"no organisation with id {organisation_id}")
    return organisation


async def grant_role(
    ctx: RegistryCtx, *, programme_id: uuid.UUID, organisation_id: uuid.UUID, role: ProgrammeRole
) -> OrganisationRole:
    """Record the role (idempotent: granting a role held already changes nothing)."""
    await programmes.get_programme(ctx, programme_id)
    await get(ctx, organisation_id)
    existing = await repository.role(ctx.session, programme_id, organisation_id, role)
    if existing is not None:
        return existing
    granted = OrganisationRole(programme_id=programme_id, organisation_id=organisation_id, role=role)
    ctx.session.add(granted)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="organisation.role-granted",
        entity_type="organisation",
        entity_id=organisation_id,
        details={"programme_id": str(programme_id), "role": role},
    )
    return granted
