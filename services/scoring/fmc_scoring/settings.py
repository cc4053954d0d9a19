"""Scoring settings: environment variables prefixed FMC_SCORING_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from fmc_common.settings import ServiceSettings, WithInfrastructure


class ScoringSettings(ServiceSettings, WithInfrastructure):
    model_config = SettingsConfigDict(env_prefix="FMC_SCORING_", extra="ignore")

    service_name: str = "scoring"
    database_url: str = "sqlite+aiosqlite:///var/scoring.db"
    http_port: int = 8003
    grpc_port: int = 50063
