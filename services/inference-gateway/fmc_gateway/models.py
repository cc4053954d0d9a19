"""Every table of the gateway, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_gateway.base import PLATFORM, Base

__all__ = ["PLATFORM", "Base"]
