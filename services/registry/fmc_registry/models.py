"""Every table of the registry, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_registry.base import PLATFORM, Base
from fmc_registry.teams.models import Team

__all__ = ["PLATFORM", "Base", "Team"]
