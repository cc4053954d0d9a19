"""Development and tests only: an issuer that stands in for the OpenID Connect provider.

``DevKeys`` holds one run's keypairs: the users' issuer key (what ``fmc token`` and tests mint with)
and each service's own service-token key. ``settings()`` gives the verification settings (the public
JWKS inline) for a service; ``DevAuthSettings`` also carries the keys so a test helper can mint for
the same settings. Production never uses this module: users' tokens come from the OIDC provider.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import PrivateAttr, SecretStr

from fmc_common.auth import Role, token_claims
from fmc_common.jwks import SigningKey, jwks_document
from fmc_common.settings import AuthSettings


@dataclass(frozen=True)
class DevKeys:
    users: SigningKey
    services: dict[str, SigningKey]

    @classmethod
    def generate(cls, services: Iterable[str]) -> DevKeys:
        stamp = uuid.uuid4().hex[:8]
        return cls(
            users=SigningKey.generate(f"dev-users-{stamp}"),
            services={name: SigningKey.generate(f"{name}-{stamp}") for name in services},
        )

    def users_jwks(self) -> str:
        return jwks_document(self.users)

    def service_jwks(self) -> str:
        return jwks_document(*self.services.values())

    def settings(self, service: str | None = None) -> DevAuthSettings:
        """Verification settings for ``service`` (with its own signing key), or for any service."""
        key = self.services.get(service) if service else next(iter(self.services.values()), None)
        built = DevAuthSettings(
            jwks=self.users_jwks(),
            service_jwks=self.service_jwks(),
            service_key=SecretStr(key.pem()) if key else None,
            service_key_id=key.kid if key else None,
        )
        built._keys = self
        return built


class DevAuthSettings(AuthSettings):
    """AuthSettings that also know the dev keys (kept out of the fields: never read from the env)."""

    _keys: DevKeys | None = PrivateAttr(default=None)

    @property
    def keys(self) -> DevKeys:
        if self._keys is None:
            raise ValueError("these settings were not made by DevKeys.settings()")
        return self._keys


def auth_env(settings: AuthSettings) -> dict[str, str]:
    """The FMC_AUTH_* variables that give a service process ``settings``: the public key sets and
    its own service key, never the users' issuer key."""
    env = {"FMC_AUTH_JWKS": settings.jwks or "", "FMC_AUTH_SERVICE_JWKS": settings.service_jwks or ""}
    if settings.service_key is not None and settings.service_key_id is not None:
        env["FMC_AUTH_SERVICE_KEY"] = settings.service_key.get_secret_value()
        env["FMC_AUTH_SERVICE_KEY_ID"] = settings.service_key_id
    return env


def sign_as_issuer(settings: AuthSettings, claims: dict[str, object]) -> str:
    """``claims`` signed by the dev users' issuer key of ``settings`` (tests of odd claims)."""
    if not isinstance(settings, DevAuthSettings):
        raise TypeError("only dev settings (DevKeys.settings()) can mint users' tokens")
    return settings.keys.users.sign(claims)


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    role: Role,
    now: datetime,
    team_id: uuid.UUID | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A users' token signed by the dev issuer key (``fmc token``, tests)."""
    claims = token_claims(
        issuer=settings.issuer,
        audience=settings.audience,
        subject=subject,
        role=role,
        now=now,
        ttl=ttl,
        team_id=team_id,
    )
    return sign_as_issuer(settings, claims)
