"""Bearer JWTs with a role. Minting is for the dev runner and tests; services only verify."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from pydantic import BaseModel, ConfigDict, Strict, StringConstraints, ValidationError, field_validator

from fmc_common.errors import Forbidden, Unauthenticated
from fmc_common.settings import AuthSettings

ALGORITHM = "HS256"


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


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    role: Role,
    now: datetime,
    team_id: uuid.UUID | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    if role == Role.TEAM and team_id is None:
        raise ValueError("a team token needs a team id")
    claims: dict[str, object] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if team_id is not None:
        claims["team_id"] = str(team_id)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def verify_token(settings: AuthSettings, token: str) -> Actor:
    """Decode and check signature, issuer, audience and expiry; raise Unauthenticated otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_seconds,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the token is not valid") from exc
    try:
        parsed = _Claims.model_validate(claims)
    except ValidationError as exc:
        # A signed token of an unusual shape is still not a caller we know: 401, never a 500.
        raise Unauthenticated("the token carries no valid role, subject or team id") from exc
    if parsed.role == Role.TEAM and parsed.team_id is None:
        raise Unauthenticated("a team token must carry a team id")
    return Actor(subject=parsed.sub, role=parsed.role, team_id=parsed.team_id)


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
