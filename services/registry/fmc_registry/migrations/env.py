from fmc_common.migrations import run_env
from fmc_registry.models import Base

run_env(Base.metadata)
