"""The web tier's settings (``FMC_WEB_*``): where the four services and the identity provider are."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from fmc_common.settings import AuthSettings


def _auth_settings() -> AuthSettings:
    return AuthSettings.model_validate({})  # the key sets are read from the environment (FMC_AUTH_*)


class WebSettings(BaseSettings):
    """One small class: the web tier owns no data, only sessions kept in an encrypted cookie."""

    model_config = SettingsConfigDict(env_prefix="FMC_WEB_", extra="ignore")

    service_name: str = "web"
    http_host: str = "127.0.0.1"
    http_port: int = 8005
    log_level: str = "INFO"
    public_url: str = Field(
        default="http://127.0.0.1:8005",
        description="The address people reach the pages at; the OIDC redirect URI is "
        "<public_url>/auth/callback.",
    )
    registry_url: str = "http://127.0.0.1:8001"
    scoring_url: str = "http://127.0.0.1:8003"
    grievance_url: str = "http://127.0.0.1:8004"
    gateway_url: str = Field(
        default="http://127.0.0.1:8002",
        description="The inference gateway: the team portal reads the team's own runs' progress there, the "
        "operator console its messaging health.",
    )
    oidc_issuer: str = Field(
        description="The OpenID Connect provider's issuer URL (its /.well-known/openid-configuration "
        "is read)."
    )
    oidc_client_id: str = "fmc-web"
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="None: a public client (PKCE only); else sent with client_secret_post."
    )
    session_key: SecretStr = Field(
        description="Fernet key (urlsafe base64 of 32 bytes) encrypting the session cookie; rotate to sign "
        "everyone out."
    )
    session_hours: float = Field(default=12.0, gt=0, le=72)
    secure_cookies: bool = Field(
        default=True, description="Secure cookies and HSTS; browsers accept them on http://127.0.0.1 too."
    )
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    stream_timeout_seconds: float = Field(
        default=180.0, gt=0, description="A streamed battle's longest wait."
    )
    max_connections: int = Field(default=400, ge=10, description="Open connections to each service.")
    # The anonymous public arena and the live pages (docs/web.md, "Public arena"; docs/decisions/
    # 2026-12-06-anonymous-arena.md).
    anonymous_battles_per_minute: int = Field(
        default=10, ge=1, le=10_000, description="Anonymous battles per client address in any minute"
    )
    forwarded_hops: int = Field(
        default=0,
        ge=0,
        le=5,
        description="Trusted proxies in front of the web tier: the client address is read from "
        "X-Forwarded-For that many hops from the right (0: the peer's address)",
    )
    live_cache_seconds: float = Field(
        default=5.0, ge=0, le=300, description="How long public data (schedule, results) is kept"
    )
    live_refresh_seconds: int = Field(
        default=15, ge=2, le=3600, description="How often a live page asks for its fragment again"
    )
    auth: AuthSettings = Field(default_factory=_auth_settings)
