"""Gateway settings: environment variables prefixed FMC_GATEWAY_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fmc_common.settings import ServiceSettings, WithInfrastructure


class GatewaySettings(ServiceSettings, WithInfrastructure):
    model_config = SettingsConfigDict(env_prefix="FMC_GATEWAY_", extra="ignore")

    service_name: str = "inference-gateway"
    database_url: str = "sqlite+aiosqlite:///var/inference-gateway.db"
    http_port: int = 8002
    grpc_port: int = 50062
    triton_url: str = Field(default="127.0.0.1:8001", description="host:port of Triton's gRPC endpoint")
    triton_timeout_seconds: float = Field(default=5.0, gt=0)
