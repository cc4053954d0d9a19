"""Sessions in an encrypted cookie: the web tier keeps no server-side state, so any replica serves anyone.

The cookie is Fernet (AES-128-CBC + HMAC-SHA256, with its time stamp): the person cannot read the bearer
token inside nor change the role, and a cookie older than ``session_hours`` is refused. Every visitor has
one, signed in or not, because it carries the CSRF token that every form and POST must echo.
"""

from __future__ import annotations

import secrets
import uuid

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, Field, ValidationError

COOKIE = "fmc_session"
LANG_COOKIE = "fmc_lang"


class PendingSignIn(BaseModel):
    """What the OIDC callback must find again: the state, the nonce and the PKCE verifier."""

    state: str
    nonce: str
    verifier: str
    next: str = "/"


class Session(BaseModel):
    csrf: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    token: str | None = None
    subject: str | None = None
    role: str | None = None
    team_id: uuid.UUID | None = None
    pending: PendingSignIn | None = None
    # The anonymous voter's random id (public arena), made at their first battle; scoring sees only a
    # keyed hash of it (fmc_web.limits.voter_pseudonym). Signing in starts a new session without it.
    voter: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.token is not None


class SessionCodec:
    def __init__(self, key: str, max_age_seconds: int) -> None:
        self._fernet = Fernet(key.encode())
        self.max_age_seconds = max_age_seconds

    def dumps(self, session: Session) -> str:
        return self._fernet.encrypt(session.model_dump_json(exclude_none=True).encode()).decode()

    def loads(self, cookie: str | None) -> Session | None:
        """The session in ``cookie``; None when missing, tampered with, expired or of another key."""
        if not cookie:
            return None
        try:
            plain = self._fernet.decrypt(cookie.encode(), ttl=self.max_age_seconds)
            return Session.model_validate_json(plain)
        except (InvalidToken, ValidationError, ValueError):
            return None
