"""Credentials that cannot be abused: a service key signs only service tokens for one audience,
users' keys come from a JWKS (fetched, cached, refreshed on an unknown kid, never a hang), and no
symmetric trick (HS256 keyed with a public key, alg none) gets past the verifier."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from fmc_common.auth import Role, TokenVerifier, token_claims
from fmc_common.dev_auth import DevAuthSettings, DevKeys, mint_token
from fmc_common.errors import Unauthenticated
from fmc_common.jwks import KeysUnavailable, SigningKey, jwks_document
from fmc_common.service_tokens import ServiceAuth, ServiceTokens
from fmc_common.settings import AuthSettings
from fmc_devrunner import cli
from fmc_devrunner.ports import free_port

GATEWAY = "inference-gateway"
SCORING = "scoring"


@pytest.fixture
def keys() -> DevKeys:
    return DevKeys.generate([SCORING, GATEWAY])


def service_claims(settings: AuthSettings, role: Role, audience: str) -> dict[str, object]:
    return token_claims(
        issuer=settings.service_issuer,
        audience=audience,
        subject="service:scoring",
        role=role,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=5),
        team_id=uuid.uuid4() if role == Role.TEAM else None,
    )


class TestServiceKeys:
    async def test_a_service_token_reaches_the_service_it_is_for(self, keys: DevKeys) -> None:
        token = ServiceTokens(keys.settings(SCORING), SCORING).token_for(GATEWAY)
        assert token is not None
        actor = await TokenVerifier(keys.settings(GATEWAY), GATEWAY).verify(token)
        assert (actor.role, actor.subject) == (Role.SERVICE, "service:scoring")

    async def test_a_service_token_for_one_service_is_refused_by_another(self, keys: DevKeys) -> None:
        token = ServiceTokens(keys.settings(GATEWAY), GATEWAY).token_for(SCORING)
        assert token is not None
        with pytest.raises(Unauthenticated):
            await TokenVerifier(keys.settings("registry"), "registry").verify(token)

    @pytest.mark.parametrize("role", [Role.OPERATOR, Role.EVALUATOR, Role.TEAM])
    async def test_a_service_key_cannot_mint_a_users_token(self, keys: DevKeys, role: Role) -> None:
        settings = keys.settings(SCORING)
        service_key = keys.services[SCORING]
        verifier = TokenVerifier(keys.settings(GATEWAY), GATEWAY)
        as_service = service_key.sign(service_claims(settings, role, GATEWAY))
        # The same key dressed up as the users' issuer, for the users' audience.
        as_issuer = service_key.sign(
            token_claims(
                issuer=settings.issuer,
                audience=settings.audience,
                subject="operator-kim",
                role=role,
                now=datetime.now(UTC),
                ttl=timedelta(minutes=5),
                team_id=uuid.uuid4() if role == Role.TEAM else None,
            )
        )
        for forged in (as_service, as_issuer):
            with pytest.raises(Unauthenticated):
                await verifier.verify(forged)

    async def test_the_users_issuer_still_mints_every_role(self, keys: DevKeys) -> None:
        settings = keys.settings(GATEWAY)
        token = mint_token(settings, subject="operator-kim", role=Role.OPERATOR, now=datetime.now(UTC))
        actor = await TokenVerifier(settings, GATEWAY).verify(token)
        assert actor.role == Role.OPERATOR

    def test_service_tokens_are_short_lived_and_renewed_before_they_expire(self, keys: DevKeys) -> None:
        clock = [1_800_000_000.0]
        tokens = ServiceTokens(keys.settings(SCORING), SCORING, now=lambda: clock[0])
        first = tokens.token_for(GATEWAY)
        assert first is not None
        claims = json.loads(base64.urlsafe_b64decode(first.split(".")[1] + "=="))
        assert (claims["aud"], claims["role"], claims["exp"] - claims["iat"]) == (GATEWAY, "service", 300)
        clock[0] += 150
        assert tokens.token_for(GATEWAY) == first
        clock[0] += 60  # past two thirds of its life
        assert tokens.token_for(GATEWAY) not in (None, first)

    async def test_a_long_lived_client_sends_the_current_token_on_every_request(self, keys: DevKeys) -> None:
        clock = [1_800_000_000.0]
        tokens = ServiceTokens(keys.settings(SCORING), SCORING, now=lambda: clock[0])
        seen: list[str] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request.headers["authorization"])
            return httpx.Response(200)

        async with httpx.AsyncClient(
            transport=httpx.MockTransport(record), auth=ServiceAuth(tokens.source(GATEWAY))
        ) as client:
            await client.get("http://gateway/a")
            clock[0] += 250  # the first token is near its end: the next request carries a new one
            await client.get("http://gateway/b")
        assert seen[0] != seen[1]
        assert seen[1] == f"Bearer {tokens.token_for(GATEWAY)}"

    def test_a_service_without_a_key_sends_no_token(self, keys: DevKeys) -> None:
        settings = AuthSettings(jwks=keys.users_jwks())
        assert ServiceTokens(settings, SCORING).token_for(GATEWAY) is None

    def test_the_service_key_never_travels_to_another_service(self, keys: DevKeys) -> None:
        settings = keys.settings(SCORING)
        assert settings.service_key is not None
        public = json.loads(keys.service_jwks())["keys"]
        assert all("d" not in jwk for jwk in public)
        assert settings.service_key.get_secret_value() not in (settings.jwks or "") + keys.service_jwks()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(header: dict[str, object], claims: dict[str, object], secret: bytes) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


class TestAlgorithmConfusion:
    @pytest.mark.parametrize("form", ["pem", "raw", "jwk-x"])
    async def test_hs256_keyed_with_the_public_key_is_refused(self, keys: DevKeys, form: str) -> None:
        settings = keys.settings(GATEWAY)
        public = keys.users.private.public_key()
        secrets = {
            "pem": public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
            "jwk-x": str(keys.users.public_jwk()["x"]).encode(),
        }
        claims = token_claims(
            issuer=settings.issuer,
            audience=settings.audience,
            subject="mallory",
            role=Role.OPERATOR,
            now=datetime.now(UTC),
            ttl=timedelta(minutes=5),
        )
        forged = _hs256({"alg": "HS256", "typ": "JWT", "kid": keys.users.kid}, claims, secrets[form])
        with pytest.raises(Unauthenticated):
            await TokenVerifier(settings, GATEWAY).verify(forged)

    async def test_an_unsigned_token_is_refused(self, keys: DevKeys) -> None:
        settings = keys.settings(GATEWAY)
        claims = service_claims(settings, Role.SERVICE, GATEWAY)
        header = {"alg": "none", "typ": "JWT", "kid": keys.services[SCORING].kid}
        unsigned = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
        with pytest.raises(Unauthenticated):
            await TokenVerifier(settings, GATEWAY).verify(unsigned)


class Provider:
    """The OpenID Connect provider's JWKS endpoint (an external system: a fake transport)."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.requests = 0
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, content=jwks_document(*self.keys))


def fetched(provider: Provider, **overrides: object) -> TokenVerifier:
    settings = AuthSettings.model_validate(
        {"jwks_url": "https://idp.example/jwks", "jwks_refresh_min_interval_seconds": 60, **overrides}
    )
    return TokenVerifier(settings, GATEWAY, transport=httpx.MockTransport(provider.handle))


def users_token(key: SigningKey, role: Role = Role.OPERATOR) -> str:
    settings = AuthSettings(jwks_url="https://idp.example/jwks")
    return key.sign(
        token_claims(
            issuer=settings.issuer,
            audience=settings.audience,
            subject="operator-kim",
            role=role,
            now=datetime.now(UTC),
            ttl=timedelta(minutes=5),
        )
    )


class TestJwksUrl:
    async def test_the_key_set_is_fetched_once_and_cached(self) -> None:
        key = SigningKey.generate("idp-1")
        provider = Provider(key)
        verifier = fetched(provider)
        for _ in range(3):
            assert (await verifier.verify(users_token(key))).role == Role.OPERATOR
        assert provider.requests == 1

    async def test_an_unknown_kid_triggers_one_refresh_then_401(self) -> None:
        known, rotated_away = SigningKey.generate("idp-1"), SigningKey.generate("idp-0")
        provider = Provider(known)
        verifier = fetched(provider)
        await verifier.verify(users_token(known))
        for _ in range(3):
            with pytest.raises(Unauthenticated):
                await verifier.verify(users_token(rotated_away))
        assert provider.requests == 2  # one refresh; unknown kids cannot make it fetch in a loop

    async def test_a_key_added_by_rotation_is_picked_up_by_the_refresh(self) -> None:
        old, new = SigningKey.generate("idp-1"), SigningKey.generate("idp-2")
        provider = Provider(old)
        verifier = fetched(provider)
        await verifier.verify(users_token(old))
        provider.keys = [old, new]
        assert (await verifier.verify(users_token(new))).role == Role.OPERATOR
        assert provider.requests == 2

    async def test_an_unreachable_key_set_is_a_503_problem(self) -> None:
        provider = Provider(SigningKey.generate("idp-1"))
        provider.down = True
        with pytest.raises(KeysUnavailable) as caught:
            await fetched(provider).verify(users_token(provider.keys[0]))
        assert caught.value.status == 503

    async def test_stale_keys_keep_working_while_the_provider_is_away(self) -> None:
        key = SigningKey.generate("idp-1")
        provider = Provider(key)
        verifier = fetched(provider, jwks_cache_seconds=0.01)
        await verifier.verify(users_token(key))
        provider.down = True
        await asyncio.sleep(0.02)
        assert (await verifier.verify(users_token(key))).role == Role.OPERATOR
        assert provider.requests == 2

    async def test_a_provider_that_never_answers_is_a_503_after_the_timeout(self, silent: int) -> None:
        settings = AuthSettings(jwks_url=f"http://127.0.0.1:{silent}/jwks", jwks_timeout_seconds=0.3)
        started = time.monotonic()
        with pytest.raises(KeysUnavailable):
            await TokenVerifier(settings, GATEWAY).verify(users_token(SigningKey.generate("idp-1")))
        assert time.monotonic() - started < 3

    def test_settings_without_a_users_key_set_are_refused(self) -> None:
        with pytest.raises(ValueError, match="FMC_AUTH_JWKS"):
            AuthSettings()


@pytest.fixture
async def silent() -> AsyncIterator[int]:
    """A real TCP server that accepts and never answers: a hung identity provider."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    port = free_port()
    server = await asyncio.start_server(hold, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()


def test_dev_settings_carry_their_keys_only_in_memory(keys: DevKeys) -> None:
    settings = keys.settings(GATEWAY)
    assert isinstance(settings, DevAuthSettings)
    dumped = settings.model_dump_json()
    assert keys.users.pem() not in dumped


class TestDevTools:
    def test_fmc_keys_and_fmc_token_give_what_a_service_verifies(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as made:
            cli.main(["keys", "--var-dir", str(tmp_path)])
        assert made.value.code == 0
        lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
        env = {name: value.strip("'\"") for name, value in lines.items()}
        assert (tmp_path / "dev-issuer.json").stat().st_mode & 0o077 == 0
        settings = AuthSettings(
            jwks=env["FMC_AUTH_JWKS"],
            service_jwks=env["FMC_AUTH_SERVICE_JWKS"],
            service_key=SecretStr(env["FMC_SCORING_SERVICE_KEY"]),
            service_key_id=env["FMC_SCORING_SERVICE_KEY_ID"],
        )
        with pytest.raises(SystemExit):
            cli.main(["token", "--role", "operator", "--var-dir", str(tmp_path)])
        token = capsys.readouterr().out.strip()
        verifier = TokenVerifier(settings, GATEWAY)
        assert asyncio.run(verifier.verify(token)).role == Role.OPERATOR
        service_token = ServiceTokens(settings, SCORING).token_for(GATEWAY)
        assert service_token is not None
        assert asyncio.run(verifier.verify(service_token)).subject == "service:scoring"
        # The web tier's own key (compose's web service): the services accept its tokens too.
        web = AuthSettings(
            jwks=env["FMC_AUTH_JWKS"],
            service_key=SecretStr(env["FMC_WEB_SERVICE_KEY"]),
            service_key_id=env["FMC_WEB_SERVICE_KEY_ID"],
        )
        web_token = ServiceTokens(web, "web").token_for(GATEWAY)
        assert web_token is not None
        assert asyncio.run(verifier.verify(web_token)).subject == "service:web"
