"""OpenID Connect, authorisation code flow with PKCE (S256), as a confidential or public client.

The provider is named by its issuer URL; its endpoints come from discovery. The ID token is verified
(signature by the provider's JWKS, ``iss``, ``aud`` = our client id, ``exp``, the ``nonce`` we sent);
the access token is the platform token the services verify, so we verify it the same way (role,
subject, team) before keeping it in the session.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from fmc_common.auth import Actor, TokenVerifier
from fmc_common.errors import Unauthenticated
from fmc_common.jwks import KeySource, KeysUnavailable
from fmc_web.session import PendingSignIn


class SignInFailed(Exception):
    """The provider's answer does not sign anyone in (shown as ``signin-failed``)."""


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43+ characters of the unreserved set) and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def safe_next(target: str | None) -> str:
    """Only a path of this site: never another origin (``//host``, ``/\\host``, ``https://``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    actor: Actor


class OidcClient:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        redirect_uri: str,
        verifier: TokenVerifier,
        http: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._verifier = verifier
        self._http = http
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySource | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            try:
                response = await self._http.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
                found = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInFailed("the identity provider cannot be reached") from exc
            if not isinstance(found, dict) or str(found.get("issuer", "")).rstrip("/") != self.issuer:
                raise SignInFailed("the identity provider's discovery names another issuer")
            self._metadata = found
            self._keys = KeySource(url=str(found["jwks_uri"]), transport=self._transport)
        return self._metadata

    async def start(self, next_path: str, lang: str) -> tuple[PendingSignIn, str]:
        """What to remember in the session, and where to send the browser."""
        meta = await self.metadata()
        verifier, challenge = pkce_pair()
        pending = PendingSignIn(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=verifier,
            next=safe_next(next_path),
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": "openid profile",
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "ui_locales": lang,
            }
        )
        return pending, f"{meta['authorization_endpoint']}?{query}"

    async def finish(self, pending: PendingSignIn, state: str, code: str) -> SignedIn:
        if not secrets.compare_digest(state, pending.state):
            raise SignInFailed("the state does not match the sign-in this browser started")
        meta = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "code_verifier": pending.verifier,
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        try:
            response = await self._http.post(str(meta["token_endpoint"]), data=form)
            tokens = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed("the token endpoint did not answer") from exc
        if response.status_code != 200 or not isinstance(tokens, dict):
            raise SignInFailed(f"the token endpoint refused the code: {tokens}")
        await self._check_id_token(str(tokens.get("id_token", "")), pending.nonce)
        access = str(tokens.get("access_token", ""))
        try:
            actor = await self._verifier.verify(access)
        except Unauthenticated as exc:
            raise SignInFailed(f"the access token is not one the services accept: {exc}") from exc
        return SignedIn(access, actor)

    async def _check_id_token(self, id_token: str, nonce: str) -> None:
        assert self._keys is not None
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = await self._keys.get(str(kid))
            if key is None:
                raise SignInFailed("the ID token is signed with an unknown key")
            claims = jwt.decode(
                id_token,
                key.key,  # type: ignore[arg-type]
                algorithms=[key.algorithm],
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"the ID token is not valid: {exc}") from exc
        except KeysUnavailable as exc:
            raise SignInFailed("the identity provider's keys cannot be fetched") from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInFailed("the ID token's nonce is not the one this sign-in sent")
