"""RFC 9457 problem+json for every error, with a stable ``code``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fmc_common.db import is_unique_violation
from fmc_common.errors import AppError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
}


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(status: int, code: str, title: str, detail: str, instance: str, **extra: Any) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"https://fmc.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ProblemResponse(body, status_code=status, headers=headers)


# OpenAPI declaration for endpoints: responses=PROBLEM_RESPONSES
PROBLEM_SCHEMA: dict[str, Any] = {
    "content": {
        PROBLEM_JSON: {
            "schema": {
                "type": "object",
                "required": ["type", "title", "status", "code"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                    "instance": {"type": "string"},
                },
            }
        }
    }
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"description": _HTTP_CODES.get(status, "error"), **PROBLEM_SCHEMA} for status in statuses
    }


def install_problem_handlers(app: FastAPI) -> None:
    async def app_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, AppError)
        body = exc.problem(instance=request.url.path)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return ProblemResponse(body, status_code=exc.status, headers=headers)

    async def validation_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "location": list(map(str, e.get("loc", ()))),
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        return problem(
            422,
            "validation-failed",
            "The request is not valid",
            f"{len(errors)} field(s) failed validation",
            request.url.path,
            errors=errors,
        )

    async def http_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http-error")
        return problem(
            exc.status_code, code, code.replace("-", " ").capitalize(), str(exc.detail), request.url.path
        )

    async def unexpected(request: Request, exc: Exception) -> ProblemResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(
            500, "internal-error", "Internal error", "an unexpected error occurred", request.url.path
        )

    async def integrity_error(request: Request, exc: Exception) -> ProblemResponse:
        # A check-then-insert that lost a race to a concurrent request: the database's unique
        # constraint refused the second row. Services map the races they expect to their own codes;
        # this answers the rest as the conflict it is, never as a server error.
        assert isinstance(exc, IntegrityError)
        if not is_unique_violation(exc):
            return await unexpected(request, exc)
        log.warning("unique constraint refused a concurrent write", extra={"path": request.url.path})
        return problem(
            409,
            "concurrent-conflict",
            "Conflicting concurrent request",
            "another request wrote the same record at the same moment; repeat the request to see the "
            "current state",
            request.url.path,
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(Exception, unexpected)
