"""Bearer JWTs with a role, verified with public keys (``fmc_common.jwks``).

Services verify; they sign only their own service tokens (``fmc_common.service_tokens``). Users'
tokens come from the OpenID Connect provider, or in development from ``fmc_common.dev_auth``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import httpx
import jwt
from pydantic import BaseModel, ConfigDict, Strict, StringConstraints, ValidationError, field_validator

from fmc_common.errors import Forbidden, Unauthenticated
from fmc_common.jwks import KeySource, VerifyingKey
from fmc_common.settings import AuthSettings


class Role(StrEnum):
    OPERATOR = "operator"
    EVALUATOR = "evaluator"
    TEAM = "team"
    SERVICE = "service"


class Actor(BaseModel):
    """Who is calling: a subject with one role; a team caller also carries its team id."""

    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    team_id: uuid.UUID | None = None

    def require(self, *roles: Role) -> Actor:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this operation needs one of the roles: {allowed}", required_roles=list(roles))
        return self

    def require_team(self, team_id: uuid.UUID) -> Actor:
        """A team may act only for itself; operators may act for any team."""
        if self.role == Role.OPERATOR:
            return self
        if self.role == Role.TEAM and self.team_id == team_id:
            return self
        raise Forbidden("a team may act only for its own team")


class TokenVerifier:
    """Checks bearer tokens for one service: users' tokens and service tokens addressed to it.

    The token's ``iss`` says which key set verifies it, and that set decides what it may claim: a
    users' issuer key any role (``aud`` = the users' audience); a service key (``iss`` = the service
    issuer) only role ``service`` and ``aud`` = this service's name. A service key presented under
    the users' issuer is simply not in that set.
    """

    def __init__(
        self,
        settings: AuthSettings,
        service_name: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._service_name = service_name
        self.users = self._source(settings.jwks, settings.jwks_url, transport)
        self.services = self._source(settings.service_jwks, settings.service_jwks_url, transport)

    def _source(
        self, inline: str | None, url: str | None, transport: httpx.AsyncBaseTransport | None
    ) -> KeySource:
        s = self._settings
        return KeySource(
            inline=inline,
            url=url,
            cache_seconds=s.jwks_cache_seconds,
            refresh_min_interval_seconds=s.jwks_refresh_min_interval_seconds,
            timeout_seconds=s.jwks_timeout_seconds,
            transport=transport,
        )

    async def verify(self, token: str) -> Actor:
        """The caller the token names; Unauthenticated (401) unless signature and claims hold."""
        s = self._settings
        kid, issuer = _unverified(token)
        from_service = issuer == s.service_issuer
        key = await (self.services if from_service else self.users).get(kid)
        if key is None:
            raise Unauthenticated("the token is signed with a key this service does not know")
        claims = _decode(
            token,
            key,
            issuer=s.service_issuer if from_service else s.issuer,
            audience=self._service_name if from_service else s.audience,
            leeway=s.leeway_seconds,
        )
        actor = _actor(claims)
        if from_service and actor.role != Role.SERVICE:
            raise Unauthenticated("a service key signs only service tokens")
        return actor


def _unverified(token: str) -> tuple[str, object]:
    """The ``kid`` and ``iss`` a token names, only to pick the key that will then verify it."""
    try:
        header = jwt.get_unverified_header(token)
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the token is not valid") from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthenticated("the token names no key (kid)")
    return kid, issuer


def _decode(token: str, key: VerifyingKey, *, issuer: str, audience: str, leeway: int) -> dict[str, object]:
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            key.key,  # type: ignore[arg-type]
            # The key's own algorithm, never the header's: no HS256 with a public key as its secret.
            algorithms=[key.algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the token is not valid") from exc
    return claims


def _actor(claims: dict[str, object]) -> Actor:
    try:
        parsed = _Claims.model_validate(claims)
    except ValidationError as exc:
        # A signed token of an unusual shape is still not a caller we know: 401, never a 500.
        raise Unauthenticated("the token carries no valid role, subject or team id") from exc
    if parsed.role == Role.TEAM and parsed.team_id is None:
        raise Unauthenticated("a team token must carry a team id")
    return Actor(subject=parsed.sub, role=parsed.role, team_id=parsed.team_id)


def token_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    role: Role,
    now: datetime,
    ttl: timedelta,
    team_id: uuid.UUID | None = None,
) -> dict[str, object]:
    """The claims of a platform token (signed by the dev issuer, tests, or a service for itself)."""
    if role == Role.TEAM and team_id is None:
        raise ValueError("a team token needs a team id")
    claims: dict[str, object] = {
        "sub": subject,
        "role": role.value,
        "iss": issuer,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if team_id is not None:
        claims["team_id"] = str(team_id)
    return claims


class _Claims(BaseModel):
    """The claims the platform reads, strictly typed (a number is neither a team id nor a subject)."""

    model_config = ConfigDict(extra="ignore")

    sub: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)]
    role: Role
    team_id: Annotated[uuid.UUID, Strict(False)] | None = None

    @field_validator("team_id", mode="before")
    @classmethod
    def _text_only(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError("team_id must be a string")
        return value or None


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("missing bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()
