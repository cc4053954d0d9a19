"""The published OpenAPI says what the service really answers: every refusal is problem+json.

FastAPI documents its 422 as ``application/json`` with its own error model and leaves out the 400 it
sends for a body that is not JSON, the 413 for one over the size limit and the 414 for a path and
query over theirs (RequestLimitsMiddleware answers it on any operation). This rewrites each
operation's error responses once, when the document is first built.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from fmc_common.web.problems import PROBLEM_SCHEMA

_FASTAPI_ERROR_MODELS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, **copy.deepcopy(PROBLEM_SCHEMA)}


def problem_document(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.setdefault("414", _problem("uri-too-long: the path and query are over the size limit"))
            if "422" in responses:
                responses["422"] = _problem(responses["422"].get("description") or "validation-failed")
            if "requestBody" in operation:
                responses.setdefault(
                    "400",
                    _problem("bad-request: the body could not be parsed (for example, nested too deeply)"),
                )
                responses.setdefault("413", _problem("payload-too-large: the body is over the size limit"))
    text = repr(document.get("paths", {}))
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_ERROR_MODELS:
        if name in schemas and f"#/components/schemas/{name}" not in text + repr(
            {k: v for k, v in schemas.items() if k not in _FASTAPI_ERROR_MODELS}
        ):
            del schemas[name]
    return document


def install_problem_openapi(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_document(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
