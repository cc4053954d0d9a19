from fmc_common.migrations import run_env
from fmc_gateway.models import Base

run_env(Base.metadata)
