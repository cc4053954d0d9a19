"""Every table of grievance, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_grievance.base import PLATFORM, Base
from fmc_grievance.participants.models import Participant

__all__ = ["PLATFORM", "Base", "Participant"]
