"""Registry settings: environment variables prefixed FMC_REGISTRY_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from fmc_common.settings import ServiceSettings, WithInfrastructure


class RegistrySettings(ServiceSettings, WithInfrastructure):
    model_config = SettingsConfigDict(env_prefix="FMC_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    database_url: str = "sqlite+aiosqlite:///var/registry.db"
    http_port: int = 8001
    grpc_port: int = 50061
