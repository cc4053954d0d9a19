"""Every table of the registry, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_registry.audit.models import AuditEntry
from fmc_registry.base import PLATFORM, Base
from fmc_registry.organisations.models import Organisation, OrganisationRole
from fmc_registry.programmes.models import Programme, Stage
from fmc_registry.selection.models import SelectionApplication, SelectionCall, SelectionEligibility
from fmc_registry.submissions.models import Statement, Submission
from fmc_registry.support.models import (
    GpuAllocation,
    GpuPackage,
    GpuSupplierContract,
    GpuSupplierContractTeam,
    SupportAllocation,
    SupportPool,
)
from fmc_registry.teams.models import Team, TeamMember

__all__ = [
    "PLATFORM",
    "AuditEntry",
    "Base",
    "GpuAllocation",
    "GpuPackage",
    "GpuSupplierContract",
    "GpuSupplierContractTeam",
    "Organisation",
    "OrganisationRole",
    "Programme",
    "SelectionApplication",
    "SelectionCall",
    "SelectionEligibility",
    "Stage",
    "Statement",
    "Submission",
    "SupportAllocation",
    "SupportPool",
    "Team",
    "TeamMember",
]
