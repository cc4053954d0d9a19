from fmc_common.migrations import run_env
from fmc_scoring.models import Base

run_env(Base.metadata)
