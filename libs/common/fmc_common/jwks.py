"""Public keys that verify tokens (a JWKS, inline or fetched) and private keys that sign them.

Only asymmetric keys: a verifier holds public keys, which can mint nothing. The algorithm used to
verify a token is the one its key implies (Ed25519 -> EdDSA, RSA -> RS256), never the token's own
``alg`` header, so a token "signed" with HS256 using a public key as the secret is refused.

A fetched key set is cached for ``cache_seconds``, refreshed at most once per
``refresh_min_interval_seconds`` when a token names an unknown ``kid`` (a rotated key), and fetched
with a timeout. A set that cannot be fetched is ``KeysUnavailable`` (503), never a hang or a 500;
stale keys keep working while the provider is briefly away.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from fmc_common.errors import Unavailable

log = logging.getLogger(__name__)

# The algorithm each key type verifies with; anything else (HS*, none) is never accepted.
ALGORITHM_BY_KEY_TYPE = {"OKP": "EdDSA", "RSA": "RS256", "EC": "ES256"}


class KeysUnavailable(Unavailable):
    code = "auth-keys-unavailable"
    title = "The keys that verify tokens cannot be fetched right now; try again later"


@dataclass(frozen=True)
class VerifyingKey:
    kid: str
    key: object
    algorithm: str


def parse_jwks(document: str | bytes | dict[str, object]) -> dict[str, VerifyingKey]:
    """The usable keys of a JWKS, by ``kid``; keys without a kid or of an unknown type are skipped."""
    raw = json.loads(document) if isinstance(document, str | bytes) else document
    keys = raw.get("keys") if isinstance(raw, dict) else None
    if not isinstance(keys, list):
        raise ValueError("a JWKS is an object with a 'keys' list")
    found: dict[str, VerifyingKey] = {}
    for entry in keys:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        algorithm = ALGORITHM_BY_KEY_TYPE.get(str(entry.get("kty")))
        if algorithm is None or entry.get("use", "sig") != "sig" or "d" in entry:
            continue  # a private key published by mistake is not trusted either
        try:
            key = jwt.PyJWK(entry, algorithm).key
        except jwt.PyJWTError:
            log.warning("skipping JWKS key %s: not a usable %s key", entry["kid"], algorithm)
            continue
        found[entry["kid"]] = VerifyingKey(entry["kid"], key, algorithm)
    return found


@dataclass
class KeySource:
    """One trust domain's public keys: inline (dev, tests) or fetched from a JWKS URL."""

    inline: str | None = None
    url: str | None = None
    cache_seconds: float = 300.0
    refresh_min_interval_seconds: float = 30.0
    timeout_seconds: float = 5.0
    transport: httpx.AsyncBaseTransport | None = None
    fetches: int = field(default=0, init=False)
    _keys: dict[str, VerifyingKey] = field(default_factory=dict, init=False)
    _fetched_at: float | None = field(default=None, init=False)
    _unknown_at: float | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def __post_init__(self) -> None:
        if self.inline is not None:
            self._keys = parse_jwks(self.inline)

    async def get(self, kid: str) -> VerifyingKey | None:
        if self.url is None:
            return self._keys.get(kid)
        now = time.monotonic()
        expired = self._fetched_at is None or now - self._fetched_at > self.cache_seconds
        # An unknown kid (a rotated key) refreshes at once, but at most once per interval: random kids
        # must not turn every request into a fetch from the provider.
        unknown = (
            not expired
            and kid not in self._keys
            and (self._unknown_at is None or now - self._unknown_at >= self.refresh_min_interval_seconds)
        )
        if unknown:
            self._unknown_at = now
        if expired or unknown:
            await self._refresh(self.fetches)
        return self._keys.get(kid)

    async def _refresh(self, seen: int) -> None:
        assert self.url is not None
        async with self._lock:
            if self.fetches != seen:
                return  # another caller fetched while this one waited for the lock
            started = time.monotonic()
            self.fetches += 1
            try:
                async with httpx.AsyncClient(
                    timeout=self.timeout_seconds, transport=self.transport
                ) as client:
                    response = await client.get(self.url, headers={"Accept": "application/json"})
                response.raise_for_status()
                self._keys = parse_jwks(response.content)
                self._fetched_at = started
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("cannot fetch the JWKS at %s: %r", self.url, exc)
                if self._fetched_at is None:
                    raise KeysUnavailable(f"the JWKS at {self.url} cannot be fetched") from exc


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key and its ``kid``: a service's own key, or the dev runner's issuer key."""

    kid: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, kid: str, pem: str) -> SigningKey:
        # A PEM written on one line with \\n escapes (an .env file) is the same key.
        private = serialization.load_pem_private_key(pem.replace("\\n", "\n").encode(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("a signing key must be an Ed25519 private key (PEM, PKCS#8)")
        return cls(kid, private)

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def public_jwk(self) -> dict[str, object]:
        jwk: dict[str, object] = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def sign(self, claims: dict[str, object]) -> str:
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


def jwks_document(*keys: SigningKey) -> str:
    """The public JWKS of ``keys`` (what a verifier is given)."""
    return json.dumps({"keys": [key.public_jwk() for key in keys]})
