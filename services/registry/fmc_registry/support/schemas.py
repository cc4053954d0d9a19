from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from fmc_common.inputs import Input, Won
from fmc_registry.support.models import GpuModel, PoolKind


class PoolCreate(Input):
    kind: PoolKind
    amount_won: Won
    per_team_cap_won: Won | None = Field(default=None, description="At most this much per team")


class PoolOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    kind: PoolKind
    amount_won: int
    per_team_cap_won: int | None
    allocated_won: int
    remaining_won: int


class AllocationCreate(Input):
    team_id: uuid.UUID
    amount_won: Won
    purpose: str = Field(min_length=1, max_length=500)


class AllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    pool_id: uuid.UUID
    team_id: uuid.UUID
    amount_won: int
    purpose: str
    allocated_at: datetime


class PackageCreate(Input):
    gpu_model: GpuModel
    gpu_count: int = Field(ge=1, le=1_000_000)


class PackageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    programme_id: uuid.UUID
    gpu_model: GpuModel
    gpu_count: int


class Period(Input):
    @model_validator(mode="after")
    def ordered(self) -> Period:
        start, end = self._bounds()
        if not start < end:
            raise ValueError("the period must end after it starts")
        return self

    def _bounds(self) -> tuple[datetime, datetime]:
        raise NotImplementedError


class ContractCreate(Period):
    supplier_organisation_id: uuid.UUID
    gpu_model: GpuModel
    supplied_team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    rental_starts_at: AwareDatetime
    rental_ends_at: AwareDatetime

    def _bounds(self) -> tuple[datetime, datetime]:
        return self.rental_starts_at, self.rental_ends_at


class ContractOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    supplier_organisation_id: uuid.UUID
    gpu_model: GpuModel
    supplied_team_ids: list[uuid.UUID]
    rental_starts_at: datetime
    rental_ends_at: datetime


class GpuAllocationCreate(Period):
    package_id: uuid.UUID
    period_starts_at: AwareDatetime
    period_ends_at: AwareDatetime

    def _bounds(self) -> tuple[datetime, datetime]:
        return self.period_starts_at, self.period_ends_at


class GpuAllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    team_id: uuid.UUID
    package_id: uuid.UUID
    period_starts_at: datetime
    period_ends_at: datetime
    allocated_at: datetime


class ProgrammeSupport(BaseModel):
    programme_id: uuid.UUID
    budget_won: int
    pooled_won: int = Field(description="Set aside in pools")
    allocated_won: int = Field(description="Allocated to teams from the pools")
    unpooled_won: int = Field(description="Budget not yet set aside in a pool")
    pools: list[PoolOut]
    gpu_packages: list[PackageOut]
    gpu_supplier_contracts: list[ContractOut]


class TeamSupport(BaseModel):
    team_id: uuid.UUID
    data_allocations: list[AllocationOut]
    gpu_allocations: list[GpuAllocationOut]
