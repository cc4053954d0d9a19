"""Every table of scoring, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_scoring.base import PLATFORM, Base
from fmc_scoring.participants.models import Participant

__all__ = ["PLATFORM", "Base", "Participant"]
