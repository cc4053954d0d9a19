"""Development and tests only: an OpenID Connect provider built on Authlib's server parts.

It stands in for the identity provider named in the web tier's settings (authorisation code flow,
PKCE required, ``openid`` scope with a nonce) and signs with the dev users' issuer key, so the access
token it issues is exactly what ``fmc token`` mints (``iss``/``aud`` of the platform, ``role``, ``sub``,
``team_id``): the services accept it as they accept any users' token. Its sign-in page asks for the
subject, the role and, for a team, the team id: a developer's stand-in for a real login, never for
production (docs/web.md).

``python -m fmc_devrunner.identity --port P --issuer-key-file var/dev/dev-issuer.json
--redirect-uri http://127.0.0.1:8105/auth/callback`` serves it.
"""

from __future__ import annotations

import argparse
import html
import json
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import OKPKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from fmc_common.auth import Role
from fmc_common.dev_auth import DevKeys, mint_token
from fmc_common.jwks import SigningKey

CODE_SECONDS = 300
TOKEN_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Person:
    subject: str
    role: Role
    team_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    redirect_uris: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"  # a public client: PKCE is its proof

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    person: Person
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass(frozen=True)
class Incoming:
    """A request already read (Authlib's server parts are synchronous; Starlette's body is not)."""

    method: str
    url: str
    headers: dict[str, str]
    data: dict[str, str]


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, incoming: Incoming) -> None:
        super().__init__(incoming.method, incoming.url, headers=incoming.headers)
        self.payload = BasicOAuth2Payload(incoming.data)
        self._incoming = incoming

    @property
    def args(self) -> dict[str, str]:
        return self._incoming.data

    @property
    def form(self) -> dict[str, str]:
        return self._incoming.data


class Provider(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, issuer_url: str, key: SigningKey, clients: list[Client]) -> None:
        super().__init__(scopes_supported=["openid", "profile"])
        self.issuer_url = issuer_url.rstrip("/")
        self.key = key
        self.platform = DevKeys(key, services={}).settings()  # the platform's issuer and audience
        self.clients = {c.client_id: c for c in clients}
        self.codes: dict[str, Code] = {}
        self.register_token_generator("default", self._platform_token)
        self.register_grant(_CodeGrant, [CodeChallenge(required=True), _OpenIDCode(self, require_nonce=True)])

    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to keep: the access token is a signed JWT the services verify themselves."""

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        return None

    def create_oauth2_request(self, request: Incoming | OAuth2Request) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _Request(request)

    def handle_response(self, status: int, body: object, headers: list[tuple[str, str]]) -> Response:
        head = dict(headers)
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=head)
        return Response(str(body or ""), status_code=status, headers=head)

    def _platform_token(
        self,
        grant_type: str,
        client: Client,
        user: Person | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None
        access = mint_token(
            self.platform,
            subject=user.subject,
            role=user.role,
            team_id=user.team_id,
            now=datetime.now(UTC),
        )
        return {"token_type": "Bearer", "access_token": access, "expires_in": TOKEN_SECONDS, "scope": scope}

    def metadata(self) -> dict[str, Any]:
        base = self.issuer_url
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile"],
        }


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

    @property
    def provider(self) -> Provider:
        assert isinstance(self.server, Provider)
        return self.server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.provider.codes[code] = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=data.get("redirect_uri", ""),
            scope=request.payload.scope or "",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            person=request.user,
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.provider.codes.get(code)
        if found is None or found.client_id != client.client_id:
            return None
        if time.time() - found.auth_time > CODE_SECONDS:
            return None
        return found

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.provider.codes.pop(authorization_code.code, None)  # a code is used once

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: Provider, require_nonce: bool) -> None:
        super().__init__(require_nonce=require_nonce)
        self.provider = provider
        self._key = OKPKey.import_key(provider.key.pem(), parameters={"kid": provider.key.kid})

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(c.nonce == nonce for c in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> OKPKey:
        return self._key

    def get_client_algorithm(self, client: Client) -> str:
        return "EdDSA"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "EdDSA", "kid": self.provider.key.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer_url, "aud": [client.get_client_id()]}

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo(sub=user.subject, name=user.subject, role=user.role.value)

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        with warnings.catch_warnings():  # joserfc flags EdDSA's name (RFC 9864); the key is Ed25519
            warnings.simplefilter("ignore")
            encoded: str = super().encode_id_token(token, request)
        return encoded


async def _incoming(request: Request) -> Incoming:
    data = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        data |= {k: v for k, v in form.items() if isinstance(v, str)}
    return Incoming(request.method, str(request.url), dict(request.headers), data)


_FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def _signin_page(incoming: Incoming, error: str | None = None) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(incoming.data[name])}">'
        for name in _FORWARDED
        if name in incoming.data
    )
    roles = "".join(f'<option value="{r.value}">{r.value}</option>' for r in Role if r != Role.SERVICE)
    problem = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Development sign-in</title></head>
<body><main><h1>Development sign-in</h1>
<p>This provider stands in for the identity provider in development and tests only.</p>{problem}
<form method="post" action="/authorize">{hidden}
<p><label for="subject">Subject</label> <input id="subject" name="subject" required maxlength="200"></p>
<p><label for="role">Role</label> <select id="role" name="role">{roles}</select></p>
<p><label for="team_id">Team id (team role only)</label>
<input id="team_id" name="team_id" maxlength="36"></p>
<p><button type="submit">Sign in</button></p></form></main></body></html>"""
    return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'none'; form-action 'self' *"})


def _person(data: dict[str, str]) -> Person:
    subject = data.get("subject", "").strip()
    if not subject or len(subject) > 200:
        raise ValueError("a subject of 1 to 200 characters is needed")
    role = Role(data.get("role", ""))
    if role == Role.SERVICE:
        raise ValueError("people do not sign in as a service")
    team = data.get("team_id", "").strip()
    team_id = uuid.UUID(team) if team else None
    if role == Role.TEAM and team_id is None:
        raise ValueError("a team member needs the team id")
    return Person(subject, role, team_id)


def create_app(provider: Provider) -> Starlette:
    async def discovery(request: Request) -> Response:
        return JSONResponse(provider.metadata())

    async def jwks(request: Request) -> Response:
        return Response(provider.platform.keys.users_jwks(), media_type="application/json")

    async def authorize(request: Request) -> Response:
        incoming = await _incoming(request)
        try:
            grant = provider.get_consent_grant(incoming)
        except OAuth2Error as error:
            return JSONResponse(
                {"error": error.error, "error_description": error.description}, status_code=400
            )
        if request.method == "GET":
            return _signin_page(incoming)
        try:
            person = _person(incoming.data)
        except ValueError as error:
            return _signin_page(incoming, str(error))
        response: Response = provider.create_authorization_response(
            grant.request, grant_user=person, grant=grant
        )
        return response

    async def token(request: Request) -> Response:
        response: Response = provider.create_token_response(await _incoming(request))
        return response

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issuer-key-file", type=Path, required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    parser.add_argument("--client-id", default="fmc-web")
    args = parser.parse_args(argv)
    stored = json.loads(args.issuer_key_file.read_text())
    key = SigningKey.from_pem(stored["kid"], stored["pem"])
    issuer = f"http://127.0.0.1:{args.port}"
    provider = Provider(issuer, key, [Client(args.client_id, tuple(args.redirect_uri))])
    uvicorn.run(create_app(provider), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()


__all__ = ["Client", "Provider", "create_app"]
