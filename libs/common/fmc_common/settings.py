"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class KafkaSettings(BaseSettings):
    """How to reach the Kafka-protocol broker.

    The defaults suit the embedded Tansu broker. On Apache Kafka set ``idempotent_producer=true``
    and the SASL/TLS options.
    """

    model_config = SettingsConfigDict(env_prefix="FMC_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    idempotent_producer: bool = Field(
        default=False,
        description="Tansu refuses InitProducerId; Apache Kafka should use idempotence.",
    )
    security_protocol: KafkaSecurityProtocol = KafkaSecurityProtocol.PLAINTEXT
    sasl_mechanism: str | None = Field(default=None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    request_timeout_ms: int = 30_000
    max_message_bytes: int = Field(
        default=1_048_576,
        ge=16_384,
        description=(
            "Largest record the platform produces or accepts (the producer's max.request.size, the "
            "consumer's per-partition fetch). Match the broker's message.max.bytes (1 MiB by default)."
        ),
    )
    topic_partitions: int = Field(
        default=3, ge=1, description="Partitions when the platform creates a topic."
    )
    create_topics: bool = Field(
        default=True,
        description="Create missing catalogue topics at start-up (dev, tests); off where Strimzi owns them.",
    )


class AuthSettings(BaseSettings):
    """Bearer-token verification. The secret comes only from the environment."""

    model_config = SettingsConfigDict(env_prefix="FMC_AUTH_", extra="ignore")

    jwt_secret: SecretStr = Field(description="HS256 key shared by the token issuer and the services.")
    issuer: str = "fmc"
    audience: str = "fmc-api"
    leeway_seconds: int = 30


class ServiceSettings(BaseSettings):
    """What every service needs. Subclasses set ``env_prefix`` (e.g. ``FMC_REGISTRY_``)."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str
    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 50051
    log_level: str = "INFO"
    migrate_on_start: bool = Field(
        default=True, description="Run Alembic migrations when the service starts."
    )
    relay_in_process: bool = Field(
        default=True,
        description="Relay in this process; false when fmc_common.messaging.relay_main runs beside it.",
    )
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_interval_seconds: float = Field(default=0.2, gt=0)
    consumer_max_retries: int | None = Field(
        default=None,
        ge=0,
        description="Cap on retries of one event, besides the time budget; none by default.",
    )
    consumer_retry_backoff_seconds: float = Field(default=0.2, gt=0, description="First retry delay.")
    consumer_retry_backoff_max_seconds: float = Field(default=30.0, gt=0, description="Longest retry delay.")
    consumer_retry_budget_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How long transient failures of one event are retried before it is dead-lettered: longer "
            "than a PostgreSQL failover or a broker leader election."
        ),
    )
    shutdown_grace_seconds: float = Field(default=10.0, gt=0)
    max_request_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted; a larger one is refused with 413 before it is read.",
    )


def _kafka_settings() -> KafkaSettings:
    return KafkaSettings()


def _auth_settings() -> AuthSettings:
    return AuthSettings.model_validate({})  # the secret is read from the environment


class WithInfrastructure(BaseSettings):
    """Mixin: the broker and auth settings, read from their own prefixes unless given."""

    kafka: KafkaSettings = Field(default_factory=_kafka_settings)
    auth: AuthSettings = Field(default_factory=_auth_settings)
