"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fmc_common.s3 import S3Config


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
    consumer_session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        description=(
            "A consumer's group session timeout (heartbeats every 3/10 of it). Tansu holds a group join "
            "for half of it, waiting for other members: tests shorten it so a consumer starts in a second."
        ),
    )


class AuthSettings(BaseSettings):
    """Bearer-token verification with public keys, and this service's own key for service tokens.

    Two trust domains, each a JWKS (inline for dev and tests, or a URL that is fetched and cached):
    * users' tokens (operator, evaluator, team; also service tokens from the same provider) come from
      ``issuer``, in production an OpenID Connect provider, for ``audience``;
    * service tokens are signed by each service with its own ``service_key``; their public keys are in
      the service JWKS. A key from that set vouches only for role ``service`` and only for the service
      named in ``aud``: a service can sign nothing that reaches further than another service's API.
    No service holds a key that can mint an operator, evaluator or team token.
    """

    model_config = SettingsConfigDict(env_prefix="FMC_AUTH_", extra="ignore")

    issuer: str = Field(default="fmc", description="The users' token issuer (the OIDC provider's issuer).")
    audience: str = Field(default="fmc-api", description="The audience users' tokens are issued for.")
    jwks_url: str | None = Field(default=None, description="The users' issuer JWKS URL (OIDC jwks_uri).")
    jwks: str | None = Field(default=None, description="Inline users' JWKS (JSON), for dev and tests.")
    service_issuer: str = Field(default="fmc-services", description="The issuer of service tokens.")
    service_jwks_url: str | None = Field(default=None, description="JWKS URL of every service's public key.")
    service_jwks: str | None = Field(default=None, description="Inline JWKS (JSON) of the services' keys.")
    service_key: SecretStr | None = Field(
        default=None,
        description="This service's Ed25519 private key (PEM) for its outbound service tokens; none: it "
        "sends no token.",
    )
    service_key_id: str | None = Field(default=None, description="service_key's kid in the service JWKS.")
    service_token_ttl_seconds: int = Field(
        default=300, ge=30, le=3600, description="Lifetime of a service token; renewed after two thirds."
    )
    jwks_cache_seconds: float = Field(default=300.0, gt=0, description="How long a fetched JWKS is used.")
    jwks_refresh_min_interval_seconds: float = Field(
        default=30.0, ge=0, description="Least time between two fetches caused by an unknown kid."
    )
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)
    leeway_seconds: int = 30

    @model_validator(mode="after")
    def _keys_configured(self) -> AuthSettings:
        if self.jwks is None and self.jwks_url is None:
            raise ValueError("set FMC_AUTH_JWKS_URL (the users' issuer keys) or FMC_AUTH_JWKS")
        if self.issuer == self.service_issuer:
            raise ValueError("the users' issuer and the service issuer must differ")
        if (self.service_key is None) != (self.service_key_id is None):
            raise ValueError("FMC_AUTH_SERVICE_KEY and FMC_AUTH_SERVICE_KEY_ID go together")
        return self


class ServiceSettings(BaseSettings):
    """What every service needs. Subclasses set ``env_prefix`` (e.g. ``FMC_REGISTRY_``)."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str
    database_url: str
    environment: Literal["local", "cluster"] = Field(
        default="local",
        description="local: one machine (the dev runner, tests), the defaults point at its loopback; "
        "cluster: deployed (the Kubernetes ConfigMaps, docker compose): the service refuses to start while "
        "a setting whose default only fits one machine is unset (the database URL, a *_url on loopback), "
        "naming the variable.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 50051
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Also serve /metrics on this port (on http_host), apart from the API: Prometheus "
        "scrapes it there and the API port needs no opening for monitoring; unset: the API port only.",
    )
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

    @model_validator(mode="after")
    def _deployed_settings_set(self) -> ServiceSettings:
        """In a cluster, refuse the defaults meant for one machine: nothing listens on the pod's own
        loopback, and a service started with them would wait on it instead of failing."""
        if self.environment != "cluster":
            return self
        prefix = self.model_config.get("env_prefix", "")
        unset = [
            name
            for name, field in type(self).model_fields.items()
            if name not in self.model_fields_set
            and (name == "database_url" or (name.endswith("_url") and _on_loopback(field.default)))
        ]
        if unset:
            names = ", ".join(f"{prefix}{name}".upper() for name in unset)
            raise ValueError(f"environment=cluster needs {names} set: the defaults point at this machine")
        return self


def _on_loopback(value: object) -> bool:
    """Whether ``value`` is a URL (or host:port) on this machine's loopback."""
    if not isinstance(value, str) or not value:
        return False
    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _kafka_settings() -> KafkaSettings:
    return KafkaSettings()


def _auth_settings() -> AuthSettings:
    return AuthSettings.model_validate({})  # the key sets are read from the environment


class WithInfrastructure(BaseSettings):
    """Mixin: the broker and auth settings, read from their own prefixes unless given."""

    kafka: KafkaSettings = Field(default_factory=_kafka_settings)
    auth: AuthSettings = Field(default_factory=_auth_settings)


class ArtefactStoreKind(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class WithArtefactStore(BaseSettings):
    """Mixin: where a service reads artefacts (weights, suites): local folders, or an S3-compatible bucket.

    The fields take the service's own prefix (``FMC_SCORING_S3_BUCKET``...): credentials are per
    service. Each secret is given as a value or as a file (a mounted Secret) with ``_FILE``.
    """

    artefact_store: ArtefactStoreKind = Field(
        default=ArtefactStoreKind.LOCAL,
        description="local: the folders named by the service's settings (development); s3: the bucket below",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="The S3-compatible endpoint (the only host that receives the credentials)"
    )
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_access_key_id_file: Path | None = Field(default=None, description="A file holding the access key id")
    s3_secret_access_key: SecretStr | None = None
    s3_secret_access_key_file: Path | None = Field(
        default=None, description="A file holding the secret access key"
    )
    s3_ca_bundle: str | None = Field(default=None, description="CA bundle for a private endpoint's TLS")
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    s3_max_attempts: int = Field(default=4, ge=1, le=20, description="Attempts per request (retries + 1)")
    artefact_read_block_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        le=256 * 1024 * 1024,
        description="Largest ranged read (and so the memory per open artefact)",
    )

    @model_validator(mode="after")
    def _s3_configured(self) -> WithArtefactStore:
        if self.artefact_store is ArtefactStoreKind.S3:
            prefix = str(self.model_config.get("env_prefix", ""))
            missing = [
                f"{prefix}{name.upper()}"
                for name, value in (
                    ("s3_endpoint_url", self.s3_endpoint_url),
                    ("s3_bucket", self.s3_bucket),
                    ("s3_access_key_id", self.s3_access_key_id or self.s3_access_key_id_file),
                    ("s3_secret_access_key", self.s3_secret_access_key or self.s3_secret_access_key_file),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"artefact_store=s3 needs {', '.join(missing)} (or the _FILE variants)")
        return self

    def s3_config(self) -> S3Config:
        """The bucket's connection (secrets read from their files now, so a rotated Secret is picked up
        when the service restarts)."""

        def secret(value: SecretStr | None, file: Path | None) -> str:
            if value is not None:
                return value.get_secret_value()
            assert file is not None  # checked by the validator
            return file.read_text(encoding="utf-8").strip()

        assert self.s3_endpoint_url is not None
        assert self.s3_bucket is not None
        return S3Config(
            endpoint_url=self.s3_endpoint_url,
            bucket=self.s3_bucket,
            region=self.s3_region,
            access_key_id=secret(self.s3_access_key_id, self.s3_access_key_id_file),
            secret_access_key=secret(self.s3_secret_access_key, self.s3_secret_access_key_file),
            ca_bundle=self.s3_ca_bundle,
            max_attempts=self.s3_max_attempts,
            addressing_style=self.s3_addressing_style,
        )
