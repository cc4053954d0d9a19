"""ASGI middleware: the session cookie in and out, and the security headers on every answer."""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fmc_web.session import COOKIE, Session, SessionCodec

SCOPE_KEY = "fmc_session"

# No inline script or style anywhere: scripts and styles are files of this site; the only connection
# a script makes is back to this site (the streamed battle goes through the web tier).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class SessionHolder:
    session: Session
    changed: bool = False

    def replace(self, session: Session) -> None:
        self.session = session
        self.changed = True


def cookie_header(name: str, value: str, *, max_age: int, secure: bool, http_only: bool = True) -> bytes:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


class SessionMiddleware:
    """Loads the session (a fresh one, with a new CSRF token, if none is valid) and writes it back
    when it changed. SameSite=Lax: the provider's redirect back (a top-level GET) still carries it."""

    def __init__(self, app: ASGIApp, codec: SessionCodec, secure: bool) -> None:
        self.app = app
        self.codec = codec
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header is just no session
                    cookies = SimpleCookie()
        morsel = cookies.get(COOKIE)
        found = self.codec.loads(morsel.value if morsel else None)
        holder = SessionHolder(found or Session(), changed=found is None)
        scope.setdefault("state", {})[SCOPE_KEY] = holder

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and holder.changed:
                header = cookie_header(
                    COOKIE,
                    self.codec.dumps(holder.session),
                    max_age=self.codec.max_age_seconds,
                    secure=self.secure,
                )
                message["headers"] = [*message.get("headers", []), (b"set-cookie", header)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if secure:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
