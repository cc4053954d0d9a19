"""Refusals of support allocations; each carries what is left so the caller can adjust."""

from __future__ import annotations

from fmc_common.errors import Conflict, NotFound


class BudgetExceeded(Conflict):
    code = "budget-exceeded"
    title = "This would exceed the programme's budget"


class PoolExceeded(Conflict):
    code = "pool-exceeded"
    title = "This allocation exceeds what is left in its pool"


class PerTeamCapExceeded(Conflict):
    code = "per-team-cap-exceeded"
    title = "This allocation exceeds the pool's limit per team"


class TalentSupportNotApplied(Conflict):
    code = "talent-support-not-applied"
    title = "Talent support goes only to teams that applied for it"


class TeamNotSupported(Conflict):
    code = "team-not-supported"
    title = "Support goes only to selected teams taking part in the programme"


class PoolKindTaken(Conflict):
    code = "pool-kind-taken"
    title = "The programme already has a pool of this kind"


class PackageModelTaken(Conflict):
    code = "gpu-package-exists"
    title = "The programme already offers a package of this GPU model"


class GpuSupplierConflict(Conflict):
    code = "gpu-supplier-conflict"
    title = "The team's lead supplies GPUs to the programme under an active rental contract"


class GpuAllocationOverlap(Conflict):
    code = "gpu-allocation-overlap"
    title = "The team already has a GPU allocation in this period"


class InvalidContract(Conflict):
    code = "invalid-supplier-contract"
    title = "The supplier contract is not consistent with the programme"


class PoolNotFound(NotFound):
    code = "pool-not-found"
    title = "No such support pool"


class PackageNotFound(NotFound):
    code = "gpu-package-not-found"
    title = "No such GPU package"
