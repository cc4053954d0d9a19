"""Every refusal as a page in the person's language with the problem code kept (JSON for scripts)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fmc_web import signin, views
from fmc_web.clients import ServiceProblem
from fmc_web.deps import Page, SignInRequired, runtime_of
from fmc_web.session import Session


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith("/stream")


async def problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceProblem)
    here = Page(request, runtime_of(request))
    values = dict(exc.body)
    if isinstance(values.get("deadline"), str):
        values["deadline"] = views.seoul(str(values["deadline"]))
    message = here.t.problem(exc.code, exc.detail, values)
    if _wants_json(request):
        body = {"status": exc.status, "code": exc.code, "message": message}
        return JSONResponse(body, status_code=exc.status, media_type="application/problem+json")
    if exc.status == 401:
        here.holder.replace(Session())  # an expired or revoked token: signed out
    return here.render("error.html", status=exc.status, message=message, code=exc.code)


async def sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if _wants_json(request):
        return await problem(request, ServiceProblem(401, "unauthenticated", "sign in first"))
    return RedirectResponse(signin.signin_url(exc.next_path), status_code=303)


async def invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()
    )
    return await problem(request, ServiceProblem(422, "validation-failed", fields))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/static/"):
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
    code = "not-found" if exc.status_code == 404 else f"http-{exc.status_code}"
    return await problem(request, ServiceProblem(exc.status_code, code, str(exc.detail)))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceProblem, problem)
    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
