"""Grievance settings: environment variables prefixed FMC_GRIEVANCE_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from fmc_common.settings import ServiceSettings, WithInfrastructure


class GrievanceSettings(ServiceSettings, WithInfrastructure):
    model_config = SettingsConfigDict(env_prefix="FMC_GRIEVANCE_", extra="ignore")

    service_name: str = "grievance"
    database_url: str = "sqlite+aiosqlite:///var/grievance.db"
    http_port: int = 8004
    grpc_port: int = 50064
