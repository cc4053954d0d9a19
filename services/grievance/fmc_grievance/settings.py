"""Grievance settings: environment variables prefixed FMC_GRIEVANCE_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from fmc_common.settings import ServiceSettings, WithInfrastructure

DEFAULT_ATTACHMENT_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/json",
)


class GrievanceSettings(ServiceSettings, WithInfrastructure):
    model_config = SettingsConfigDict(env_prefix="FMC_GRIEVANCE_", extra="ignore")

    service_name: str = "grievance"
    database_url: str = "sqlite+aiosqlite:///var/grievance.db"
    http_port: int = 8004
    grpc_port: int = 50064
    closing_poll_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="How often the scheduler looks for windows past their deadline.",
    )
    attachment_max_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1, le=20 * 1024 * 1024, description="Largest attachment, in bytes."
    )
    attachment_max_count: int = Field(
        default=5, ge=0, le=20, description="Attachments per objection version."
    )
    attachment_types: tuple[str, ...] = Field(
        default=DEFAULT_ATTACHMENT_TYPES, description="Media types an attachment may have."
    )
    audit_checkpoint_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key signing the audit checkpoints (HMAC-SHA256), from the environment only; "
        "the keepers of the checkpoints hold it too. Unset: no checkpoints are published.",
    )
    audit_checkpoint_key_id: str = Field(
        default="1", min_length=1, max_length=64, description="Names the key in each checkpoint (rotation)."
    )
    audit_checkpoint_every_seconds: float = Field(
        default=600.0, gt=0, le=86_400, description="A checkpoint at least this often while the trail grows."
    )
    audit_checkpoint_every_entries: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="A checkpoint at the latest after this many new entries.",
    )
