"""One error tree for the platform.

Services raise these without importing FastAPI or grpc; the edges turn them into RFC 9457
problem+json (REST) or a status code with details (gRPC). ``code`` is stable and machine-readable.
"""

from __future__ import annotations

from typing import Any, ClassVar

_PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "instance"})


class AppError(Exception):
    """Base of every error a caller may see."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://fmc.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        # The problem's own members keep their meaning (``status`` is always the HTTP status, an
        # integer): a detail of the same name is renamed rather than allowed to replace one.
        for key, value in self.extra.items():
            body[f"{key}_value" if key in _PROBLEM_MEMBERS else key] = value
        return body


class BadRequest(AppError):
    status = 400
    code = "bad-request"
    title = "Bad request"


class InvalidInput(AppError):
    status = 422
    code = "validation-failed"
    title = "The request is not valid"


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Not allowed for this caller"


class NotFound(AppError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"
    title = "The idempotency key was used for a different request"


class Unavailable(AppError):
    status = 503
    code = "unavailable"
    title = "A dependency is unavailable"


class TransientError(Exception):
    """A failure worth retrying (broker or database hiccup, timeout). Never shown to callers."""


class PermanentError(Exception):
    """A message that will never be handled, however often it is retried: dead-letter it."""
