from fmc_common.migrations import run_env
from fmc_grievance.models import Base

run_env(Base.metadata)
